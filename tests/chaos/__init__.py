"""Crash tests: the app in real processes (gunicorn, `flask worker`), killed on purpose."""
