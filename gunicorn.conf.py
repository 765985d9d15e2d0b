"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`.

Each value can be overridden from the environment so a clinic's service file stays short.
"""

import multiprocessing
import os
import subprocess
import sys

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
# gunicorn 25.1+ opens a control socket at one path per user ($HOME/.gunicorn/gunicorn.ctl),
# so a second instance on the machine takes over the first one's; and it runs a thread in the
# master, which forks. Nothing here uses `gunicornc`. (Older gunicorns ignore the setting.)
control_socket_disable = True

# `make run` sets GUNICORN_RENDER_WORKER=1: the master then also runs the PDF render worker,
# the very `flask --app wsgi worker` command the systemd worker unit runs, as its child, so one
# command serves a clinic and one Ctrl-C stops both. Why a child of the master rather than a
# thread: the master forks the web workers, and a thread alive across a fork can leave a lock
# held in every child; a fresh process shares nothing with them, and is exactly what
# production runs. The web workers then leave rendering to it (PDF_RENDER_MODE=worker, set here
# before the app is preloaded). In production the worker is its own service (deploy/), which
# systemd restarts on failure; here, if it ever dies, /healthz and `doctor` say so.
RENDER_WORKER_CHILD = os.environ.get("GUNICORN_RENDER_WORKER") == "1"
RENDER_WORKER_COMMAND = [sys.executable, "-m", "flask", "--app", "wsgi", "worker"]
if RENDER_WORKER_CHILD:
    raw_env = ["PDF_RENDER_MODE=worker"]

_render_worker: subprocess.Popen | None = None


RENDER_WORKER_NICE = 10


def _lower_priority() -> None:
    os.nice(RENDER_WORKER_NICE)


def when_ready(server) -> None:
    """The sockets are bound (so the port was free): start the render worker."""
    global _render_worker
    if RENDER_WORKER_CHILD and _render_worker is None:
        # Same process group as the master: a Ctrl-C in the terminal reaches it at once.
        # Niced as deploy/consentapp-worker.service is: a patient's tap comes first.
        _render_worker = subprocess.Popen(RENDER_WORKER_COMMAND, preexec_fn=_lower_priority)
        server.log.info("Started the PDF render worker (pid: %s)", _render_worker.pid)


def on_exit(server) -> None:
    """The master is stopping (Ctrl-C, SIGTERM): stop the render worker and wait for it, so
    the command returns only when nothing is left running."""
    if _render_worker is None:
        return
    # The master reaps every child it has (waitpid(-1)), so the worker may already be gone;
    # Popen then knows it has ended and sends nothing to a pid that could be reused.
    _render_worker.terminate()
    try:
        _render_worker.wait(timeout=graceful_timeout)
    except subprocess.TimeoutExpired:
        server.log.warning("The PDF render worker did not stop in time; killing it")
        _render_worker.kill()
        _render_worker.wait()
    server.log.info("The PDF render worker has stopped")
