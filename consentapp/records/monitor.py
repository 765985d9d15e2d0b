"""How the render pipeline is doing, in figures that carry no patient data: the queue's depth
and its oldest job's age, the PDFs overdue, and the worker loop's heartbeat.

Every worker loop (the `worker` command, or the thread of an app process) writes a heartbeat
row now and then (`beat`, run by the loop as housekeeping): /healthz, `doctor` and the staff
dashboard read them to tell a worker that is alive from one that stopped.
"""

import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..models import JobStatus, RenderJob, WorkerHeartbeat, utcnow

log = logging.getLogger(__name__)

# How often a loop writes its heartbeat; WORKER_SILENT_SECONDS must be well above it.
BEAT_EVERY_SECONDS = 15
# A worker silent this long has gone for good; its row is removed by the others.
FORGET_AFTER = timedelta(days=7)


def worker_id() -> str:
    """This process, as a heartbeat names it (no patient data: a host name and a pid)."""
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


def beat() -> None:
    """Write this loop's heartbeat (commits). A failure is logged, never raised: the loop's
    rendering must not stop because its heartbeat could not be written."""
    now = utcnow()
    try:
        row = db.session.get(WorkerHeartbeat, worker_id())
        if row is None:
            row = WorkerHeartbeat(
                worker_id=worker_id(), mode=current_app.config["PDF_RENDER_MODE"],
                started_at=now,
            )
            db.session.add(row)
        row.beat_at = now
        db.session.execute(
            delete(WorkerHeartbeat).where(WorkerHeartbeat.beat_at < now - FORGET_AFTER)
        )
        db.session.commit()
    except SQLAlchemyError as exc:
        db.session.rollback()
        log.warning("The worker's heartbeat could not be written (%s)", type(exc).__name__)


def last_heartbeat() -> datetime | None:
    return db.session.scalar(select(func.max(WorkerHeartbeat.beat_at)))


@dataclass(frozen=True)
class QueueState:
    depth: int  # jobs not done: pending, running or failed
    failed: int  # given up after every attempt: `records rerender` retries them
    oldest_age_seconds: float | None  # of the oldest job not done


def queue_state(now: datetime | None = None) -> QueueState:
    now = now or utcnow()
    depth, failed, oldest = db.session.execute(
        select(
            func.count(),
            func.count().filter(RenderJob.status == JobStatus.FAILED),
            func.min(RenderJob.created_at),
        ).where(RenderJob.status != JobStatus.DONE)
    ).one()
    return QueueState(
        depth=depth,
        failed=failed,
        oldest_age_seconds=(now - oldest).total_seconds() if oldest is not None else None,
    )


def overdue_pdfs(older_than: timedelta, now: datetime | None = None) -> int:
    """PDFs owed for longer than `older_than`, failed ones included."""
    cutoff = (now or utcnow()) - older_than
    return db.session.scalar(
        select(func.count()).select_from(RenderJob).where(
            RenderJob.status != JobStatus.DONE,
            (RenderJob.created_at < cutoff) | (RenderJob.status == JobStatus.FAILED),
        )
    )
