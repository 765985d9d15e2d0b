"""The server's health, for the administrator and their monitoring: `GET /healthz` (JSON, no
sign-in, no patient data), `flask --app wsgi doctor` (cli/operations.py runs doctor.py's
checks), and the worker loop's heartbeat (records/monitor.py), written as housekeeping.

status   the database, the render queue and the worker, as /healthz reports them
doctor   every check of an installation, one line each
"""

from flask import Blueprint, Flask, current_app, jsonify

from ..extensions import limiter
from ..records import jobs, monitor
from . import status

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@limiter.exempt  # a monitor polls it; it is cheap and tells nothing about anyone
def healthz():
    document, healthy = status.report()
    return jsonify(document), 200 if healthy else 503


def _start_the_render_thread() -> None:
    # The "thread" render mode: each app process runs the loop from its first request on,
    # not only after its first signing, so it beats (and picks up jobs left by a restart).
    jobs.thread_worker(current_app._get_current_object()).start()


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    # Beat often enough that a live loop is never taken for a silent one.
    every = min(monitor.BEAT_EVERY_SECONDS, app.config["WORKER_SILENT_SECONDS"] / 4)
    jobs.add_housekeeping(app, monitor.beat, every)
    if app.config["PDF_RENDER_MODE"] == "thread":
        app.before_request(_start_the_render_thread)
