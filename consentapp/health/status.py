"""The server's state as /healthz reports it: the database (reachable, migrated), the render
queue, the worker's heartbeat. Figures only, never patient data."""

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..models import utcnow
from ..records import monitor


@lru_cache(maxsize=4)
def migration_heads(directory: str) -> frozenset[str]:
    """The revisions the code's migrations end at (read once: they do not change while the
    app runs)."""
    config = AlembicConfig()
    config.set_main_option("script_location", directory)
    return frozenset(ScriptDirectory.from_config(config).get_heads())


@dataclass(frozen=True)
class DatabaseState:
    reachable: bool
    migrated: bool
    revision: str | None  # the database's current revision(s), comma-separated
    head: str  # the code's
    error: str | None = None  # the exception's type only


def database_state() -> DatabaseState:
    heads = migration_heads(current_app.extensions["migrate"].directory)
    head = ",".join(sorted(heads))
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = frozenset(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError as exc:
        return DatabaseState(False, False, None, head, type(exc).__name__)
    return DatabaseState(True, current == heads, ",".join(sorted(current)) or None, head)


@dataclass(frozen=True)
class WorkerState:
    mode: str  # PDF_RENDER_MODE
    needed: bool  # inline mode renders in the signing request: no loop is needed
    alive: bool
    last_heartbeat: str | None  # ISO 8601, UTC
    seconds_since_heartbeat: float | None
    silent_limit_seconds: int


def silent_limit() -> timedelta:
    return timedelta(seconds=current_app.config["WORKER_SILENT_SECONDS"])


def worker_state(now: datetime | None = None) -> WorkerState:
    now = now or utcnow()
    mode = current_app.config["PDF_RENDER_MODE"]
    last = monitor.last_heartbeat()
    since = (now - last).total_seconds() if last is not None else None
    needed = mode != "inline"
    limit = silent_limit()
    alive = not needed or (since is not None and since <= limit.total_seconds())
    return WorkerState(
        mode=mode,
        needed=needed,
        alive=alive,
        last_heartbeat=last.replace(tzinfo=UTC).isoformat() if last is not None else None,
        seconds_since_heartbeat=round(since, 1) if since is not None else None,
        silent_limit_seconds=int(limit.total_seconds()),
    )


def report() -> tuple[dict, bool]:
    """The /healthz document, and whether all is well."""
    database = database_state()
    problems = []
    queue = worker = None
    if not database.reachable:
        problems.append("the database cannot be reached")
    else:
        if not database.migrated:
            problems.append("the database is not migrated: run `flask --app wsgi db upgrade`")
        try:
            now = utcnow()
            queue_state, worker_now = monitor.queue_state(now), worker_state(now)
        except SQLAlchemyError as exc:
            db.session.rollback()
            problems.append(f"the render queue cannot be read ({type(exc).__name__})")
        else:
            queue = {
                "depth": queue_state.depth,
                "failed": queue_state.failed,
                "oldest_job_age_seconds": (
                    round(queue_state.oldest_age_seconds, 1)
                    if queue_state.oldest_age_seconds is not None else None
                ),
            }
            worker = asdict(worker_now)
            if not worker_now.alive:
                problems.append(
                    "the PDF worker has been silent for longer than "
                    f"{worker_now.silent_limit_seconds} s"
                    if worker_now.last_heartbeat else "no PDF worker has ever reported"
                )
    healthy = not problems
    return {
        "status": "ok" if healthy else "unhealthy",
        "problems": problems,
        "database": asdict(database),
        "render_queue": queue,
        "worker": worker,
    }, healthy
