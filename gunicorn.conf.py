"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`.

Each value can be overridden from the environment so a clinic's service file stays short.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: each request is short (a form post, a page); PDFs render in the worker process.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 1))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak can never take the kiosk down.
max_requests = 2000
max_requests_jitter = 200
# Load the app once, in the master, and fork the workers from it: a recycled worker is up at
# once, where importing the app (WeasyPrint, pyHanko, ...) again took two seconds of CPU per
# worker, and under load all of them recycle at about the same time. create_app() opens no
# database connection, so none is shared across the fork. New code needs a restart, not HUP.
preload_app = True
# The access log writes paths only: no query string, no Referer, no copy-link token, whatever
# a client sends (consentapp/access_log.py); the pid says which worker answered.
accesslog = "-"
errorlog = "-"
logger_class = "consentapp.access_log.PathOnlyLogger"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(L)ss %(p)s'
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
