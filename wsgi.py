"""Entry point for `flask --app wsgi` and gunicorn (`gunicorn wsgi:app`)."""

from consentapp import create_app

app = create_app()
