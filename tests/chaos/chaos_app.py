"""The app as production runs it, plus switches a crash test throws to fail it on purpose.

Configured from the environment like production (DATABASE_URL, SECRET_KEY, PDF_RENDER_MODE);
nothing here reaches into the package's modules, so the tests keep working as it is
reorganised. The switches:

- `CHAOS_DIR`: each process appends its pid to `ready.log` there once it has loaded the
  app; every PDF render appends "<pid> <time>" to `renders.log` there as it starts,
  so a test knows a render is under way in a given process, and then waits the first delay
  listed in `render-delays` (one a line, taken by the render that starts next, in any
  process: a number of seconds, or `gate:NAME`, until a file NAME appears there), or
  `CHAOS_RENDER_DELAY` seconds when that list is empty: a slow render.
- The request header `X-Chaos` on one request:
  - `kill-after-commit`: the process dies (SIGKILL) the moment a transaction that wrote a
    consent record has committed, before anything else happens in the request;
  - `kill-before-answer`: the process dies when the response is ready, before it is sent;
  - `drop-connection` (PostgreSQL): every database connection of this process is
    terminated (pg_terminate_backend) once the request holds one;
  - `drop-connection-at-commit` (PostgreSQL): the same, as the transaction that writes a
    consent record is about to commit (so the COMMIT itself fails).
"""

import fcntl
import os
import signal
import time
from pathlib import Path

import weasyprint
from flask import has_request_context, request
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from consentapp import create_app
from tests.chaos.cluster import APPLICATION_NAME_PREFIX, terminate_connections

CHAOS_HEADER = "X-Chaos"


def _chaos_dir() -> Path | None:
    folder = os.environ.get("CHAOS_DIR")
    return Path(folder) if folder else None


def _next_render_delay(folder: Path | None) -> str:
    default = os.environ.get("CHAOS_RENDER_DELAY") or "0"
    if folder is None:
        return default
    schedule = folder / "render-delays"
    with open(folder / "render-delays.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        lines = schedule.read_text().split() if schedule.exists() else []
        if not lines:
            return default
        schedule.write_text("\n".join(lines[1:]))
        return lines[0]


def _wait(delay: str, folder: Path | None) -> None:
    """A number of seconds, or "gate:NAME": until the file NAME appears in CHAOS_DIR."""
    if delay.startswith("gate:"):
        gate = folder / delay.removeprefix("gate:")
        deadline = time.monotonic() + 120
        while not gate.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    elif float(delay):
        time.sleep(float(delay))


_real_write_pdf = weasyprint.HTML.write_pdf


def _slow_write_pdf(self, *args, **kwargs):
    folder = _chaos_dir()
    if folder is not None:
        with open(folder / "renders.log", "a") as log:
            log.write(f"{os.getpid()} {time.time():.3f}\n")
    _wait(_next_render_delay(folder), folder)
    return _real_write_pdf(self, *args, **kwargs)


weasyprint.HTML.write_pdf = _slow_write_pdf


def _chaos() -> str:
    return request.headers.get(CHAOS_HEADER, "") if has_request_context() else ""


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _drop_my_connections() -> None:
    terminate_connections(os.environ["DATABASE_URL"], f"{APPLICATION_NAME_PREFIX}{os.getpid()}")


@event.listens_for(Engine, "connect")
def _name_connection(dbapi_connection, connection_record):
    # Each process's connections carry its pid, so a test can terminate exactly those.
    if type(dbapi_connection).__module__.startswith("psycopg"):
        dbapi_connection.execute(
            "SELECT set_config('application_name', %s, false)",
            (f"{APPLICATION_NAME_PREFIX}{os.getpid()}",),
        )
        dbapi_connection.commit()


@event.listens_for(Session, "after_flush")
def _note_record_insert(session, flush_context):
    if any(getattr(row, "__tablename__", "") == "consent_records" for row in session.new):
        session.info["chaos_wrote_record"] = True


@event.listens_for(Session, "before_commit")
def _before_record_commit(session):
    if session.info.get("chaos_wrote_record") and _chaos() == "drop-connection-at-commit" and (
        not request.environ.get("chaos.dropped")
    ):
        request.environ["chaos.dropped"] = True
        _drop_my_connections()


@event.listens_for(Session, "after_commit")
def _after_record_commit(session):
    if session.info.pop("chaos_wrote_record", False) and _chaos() == "kill-after-commit":
        _die()


@event.listens_for(Session, "after_rollback")
def _forget_record_insert(session):
    session.info.pop("chaos_wrote_record", None)


app = create_app()
if _chaos_dir() is not None:  # this process has loaded the app: it is ready to work
    with open(_chaos_dir() / "ready.log", "a") as ready:
        ready.write(f"{os.getpid()}\n")


@app.before_request
def _drop_connection_mid_request():
    # Once per request: the app may run a request a second time (after a lost connection).
    if _chaos() == "drop-connection" and not request.environ.get("chaos.dropped"):
        request.environ["chaos.dropped"] = True
        db = app.extensions["sqlalchemy"]
        db.session.execute(text("SELECT 1"))  # the request now holds a connection
        _drop_my_connections()


@app.after_request
def _kill_before_answer(response):
    if _chaos() == "kill-before-answer":
        _die()
    return response
