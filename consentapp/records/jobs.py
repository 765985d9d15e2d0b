"""The render outbox and the one worker loop that empties it.

Every transaction that commits a record or an event the PDF shows also writes a RenderJob
row (records/commit.py, records/decisions.py), so a job exists exactly when there is a PDF
to make. A worker claims a job atomically, renders and seals the record's next PDF version
from the stored record, stores it and marks the job done; a failure leaves the job pending
for a retry (up to MAX_ATTEMPTS), and the record is never touched.

The same loop (RenderWorker) runs as a background thread of each app process (the "thread"
render mode) and in the foreground under `flask --app wsgi worker`. Housekeeping of other
parts of the app (the patient side's purge of abandoned drafts) rides on it: they register a
task with add_housekeeping() in their init_app, and the loop runs it now and then, because
it is the one loop every deployment runs.
"""

import hashlib
import logging
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask, current_app
from sqlalchemy import func, or_, select, update

from ..extensions import db
from ..models import Actor, ConsentRecord, EventKind, JobStatus, RecordPdf, RenderJob, utcnow
from ..settings import RenderMode
from .document import document_for
from .events import append_event, events_of
from .integrity import RecordChanged, ensure_intact
from .render import RENDERER, render_pdf
from .seal import seal_for_app
from .verification import code_for, remember_code

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# A job claimed longer ago than this belongs to a worker that died; it may be claimed again.
CLAIM_LEASE = timedelta(minutes=5)
_HOUSEKEEPING = "consent_housekeeping"
_THREAD = "consent_render_worker"


# How a job's last_error starts when its record was refused (records/integrity.py).
REFUSED = "refused: "


def without_messages(exc: BaseException) -> str:
    """The traceback's frames only: an exception's message may quote patient text."""
    return "".join(traceback.format_tb(exc.__traceback__))


def render_and_store(record: ConsentRecord) -> RecordPdf:
    """Render and seal the record's next PDF version; store it with its SHA-256 (commits).

    The PDF shows the events the record has now; its pdf_rendered event names the last of
    them, so the same text can be rendered again later (document.rebuild_document). A record
    that no longer matches its chain is refused (RecordChanged) before anything is rendered:
    a forged row is never sealed.
    """
    ensure_intact(record)
    events = events_of(record.id)
    code = code_for(record.id)
    unsealed = render_pdf(document_for(record, events, code=code))
    content = seal_for_app(current_app._get_current_object(), unsealed)
    remember_code(record.id, code)
    next_version = (record.latest_pdf.version + 1) if record.latest_pdf else 1
    pdf = RecordPdf(
        record_id=record.id,
        version=next_version,
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        renderer=RENDERER,
    )
    db.session.add(pdf)
    append_event(
        record.id,
        EventKind.PDF_RENDERED,
        Actor.SYSTEM,
        {
            "version": next_version,
            "sha256": pdf.sha256,
            "events_through": events[-1].id if events else None,
        },
    )
    db.session.commit()
    return pdf


def _claimable(now):
    return or_(
        RenderJob.status == JobStatus.PENDING,
        (RenderJob.status == JobStatus.RUNNING) & (RenderJob.claimed_at < now - CLAIM_LEASE),
    )


def claim(job_id: int) -> bool:
    """Take a job atomically: only one worker's UPDATE can match the row it saw as free."""
    now = utcnow()
    result = db.session.execute(
        update(RenderJob)
        .where(RenderJob.id == job_id, _claimable(now), RenderJob.attempts < MAX_ATTEMPTS)
        .values(status=JobStatus.RUNNING, claimed_at=now, attempts=RenderJob.attempts + 1)
    )
    db.session.commit()
    return result.rowcount == 1


def _refuse(job_id: int, refusal: RecordChanged) -> None:
    """A record that no longer matches its chain: fail the job for good, and say why.

    Not retried (nothing will make the forged row match again); `records rerender` tries
    again and is refused again until the database is restored. The reason names what
    changed, never a patient's data, so it goes into the job, an event and the log.
    """
    db.session.rollback()
    log.error("Refused to render the PDF of record %s: %s", refusal.record_id, refusal.reason)
    job = db.session.get(RenderJob, job_id)
    job.status = JobStatus.FAILED
    job.finished_at = utcnow()
    job.last_error = f"{REFUSED}{refusal.reason}"[:200]
    append_event(job.record_id, EventKind.PDF_RENDER_REFUSED, Actor.SYSTEM, {
        "reason": refusal.reason,
        "meaning": "Nothing was rendered or sealed: the stored record no longer matches what "
        "was signed. Run `flask --app wsgi audit check` and restore the database from a "
        "backup.",
    })
    db.session.commit()


def run_job(job_id: int) -> bool:
    """Render one claimed job; True when the PDF was stored."""
    if not claim(job_id):
        return False
    job = db.session.get(RenderJob, job_id)
    record = db.session.get(ConsentRecord, job.record_id)
    try:
        render_and_store(record)
    except RecordChanged as refusal:
        _refuse(job_id, refusal)
        return False
    except Exception as exc:  # any failure: keep the record, leave the job for a retry
        db.session.rollback()
        log.error(
            "Rendering the PDF of record %s failed (%s); it will be retried\n%s",
            job.record_id, type(exc).__name__, without_messages(exc),
        )
        job = db.session.get(RenderJob, job_id)
        job.status = JobStatus.PENDING if job.attempts < MAX_ATTEMPTS else JobStatus.FAILED
        job.last_error = type(exc).__name__[:200]
        append_event(
            job.record_id,
            EventKind.PDF_RENDER_FAILED,
            Actor.SYSTEM,
            {"attempt": job.attempts, "error": job.last_error},
        )
        db.session.commit()
        return False
    job = db.session.get(RenderJob, job_id)
    job.status = JobStatus.DONE
    job.finished_at = utcnow()
    job.last_error = None
    db.session.commit()
    return True


def pending_job_ids(limit: int = 20) -> list[int]:
    return list(
        db.session.scalars(
            select(RenderJob.id)
            .where(RenderJob.attempts < MAX_ATTEMPTS, _claimable(utcnow()))
            .order_by(RenderJob.id)
            .limit(limit)
        )
    )


def process_pending(limit: int = 20) -> int:
    """Run up to `limit` pending jobs; returns how many PDFs were stored."""
    return sum(run_job(job_id) for job_id in pending_job_ids(limit))


def pending_job_for(record_id: str) -> RenderJob | None:
    return db.session.scalar(
        select(RenderJob).where(
            RenderJob.record_id == record_id,
            RenderJob.status.in_([JobStatus.PENDING, JobStatus.RUNNING, JobStatus.FAILED]),
        )
    )


@dataclass(frozen=True)
class Owed:
    retried: int  # failed jobs given their attempts back
    queued: int  # records that had neither a PDF nor a job


def queue_owed() -> Owed:
    """Queue every PDF still owed: failed jobs retried, and a job for each record that has
    no PDF and no job (commits)."""
    retried = db.session.execute(
        update(RenderJob)
        .where(RenderJob.status == JobStatus.FAILED)
        .values(status=JobStatus.PENDING, attempts=0)
    ).rowcount
    has_pdf = select(RecordPdf.record_id)
    has_job = select(RenderJob.record_id).where(RenderJob.status != JobStatus.DONE)
    orphans = db.session.scalars(
        select(ConsentRecord.id).where(
            ConsentRecord.id.not_in(has_pdf), ConsentRecord.id.not_in(has_job)
        )
    ).all()
    for record_id in orphans:
        db.session.add(RenderJob(record_id=record_id))
    db.session.commit()
    return Owed(retried=retried, queued=len(orphans))


def refused_record_ids() -> list[str]:
    """Records whose render was refused because they no longer match their chain."""
    return sorted(set(db.session.scalars(
        select(RenderJob.record_id).where(
            RenderJob.status == JobStatus.FAILED, RenderJob.last_error.startswith(REFUSED)
        )
    )))


def not_done_count() -> int:
    return db.session.scalar(
        select(func.count()).select_from(RenderJob).where(RenderJob.status != JobStatus.DONE)
    )


@dataclass
class _Housekeeping:
    task: Callable[[], object]
    every_seconds: float
    next_run: float = 0.0


def add_housekeeping(app: Flask, task: Callable[[], object], every_seconds: float) -> None:
    """Run `task` (in an app context) from the worker loop, at once and then every so often."""
    app.extensions.setdefault(_HOUSEKEEPING, []).append(_Housekeeping(task, every_seconds))


class RenderWorker:
    """The one worker loop: housekeeping now and then, and every pending render job.

    In a background thread (start/wake/stop, woken at once after each signing), or in the
    foreground (run_forever, the `worker` command).
    """

    def __init__(self, app: Flask, poll_seconds: float = 5.0):
        self.app = app
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self.run_forever, name="pdf-render", daemon=True
            )
            self._thread.start()

    def wake(self) -> None:
        self.start()
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def run_once(self) -> int:
        """One pass: due housekeeping, then the pending jobs; returns how many PDFs were stored."""
        with self.app.app_context():
            try:
                self._housekeeping()
                return process_pending()
            finally:
                db.session.remove()

    def _housekeeping(self) -> None:
        now = time.monotonic()
        for item in self.app.extensions.get(_HOUSEKEEPING, ()):
            if now >= item.next_run:
                item.next_run = now + item.every_seconds
                item.task()

    def run_forever(self, on_stored: Callable[[int], object] | None = None) -> None:
        while not self._stop.is_set():
            try:
                stored = self.run_once()
            except Exception as exc:  # keep looping; a database blip must not end it
                log.error(
                    "The PDF render loop failed (%s); trying again shortly\n%s",
                    type(exc).__name__, without_messages(exc),
                )
            else:
                if stored and on_stored is not None:
                    on_stored(stored)
            self._wake.wait(self.poll_seconds)
            self._wake.clear()


def after_commit(record_id: str) -> None:
    """Get the record's PDF made, as the configured render mode says."""
    app = current_app._get_current_object()
    mode = app.config["PDF_RENDER_MODE"]
    if mode == RenderMode.INLINE:
        job = pending_job_for(record_id)
        if job is not None:
            run_job(job.id)
    elif mode == RenderMode.THREAD:
        worker = app.extensions.get(_THREAD)
        if worker is None:
            worker = app.extensions.setdefault(_THREAD, RenderWorker(app))
        worker.wake()
