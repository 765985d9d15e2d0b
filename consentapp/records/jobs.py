"""The render outbox and the one worker loop that empties it.

Every transaction that commits a record or an event the PDF shows also writes a RenderJob
row (records/commit.py, records/decisions.py), so a job exists exactly when there is a PDF
to make. A worker claims a job atomically, renders and seals the record's next PDF version
from the stored record, stores it and marks the job done; a failure leaves the job pending
for a retry (up to MAX_ATTEMPTS), and the record is never touched.

A claim is a lease (PDF_RENDER_LEASE_SECONDS) that its worker renews while it renders
(LeaseKeeper), and a token only that worker knows. A worker that dies (killed, or cut off
from the database) stops renewing, and its job is free again within one lease for any live
worker or `records rerender`; a live worker's job is never taken from it, so no job is
rendered twice at once; and should a frozen worker wake up past its lease, its PDF is
refused, because only the holder of the current claim may store one. Versions follow the
events they show, however many workers render one record at once (render_and_store).

The same loop (RenderWorker) runs as a background thread of each app process (the "thread"
render mode) and in the foreground under `flask --app wsgi worker`. Housekeeping of other
parts of the app (the patient side's purge of abandoned drafts) rides on it: they register a
task with add_housekeeping() in their init_app, and the loop runs it now and then, because
it is the one loop every deployment runs.
"""

import hashlib
import logging
import secrets
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import and_, func, or_, select, update

from ..extensions import db
from ..models import (
    Actor,
    ConsentRecord,
    EventKind,
    JobStatus,
    RecordEvent,
    RecordPdf,
    RenderJob,
    utcnow,
)
from ..settings import RenderMode
from .document import document_for
from .events import append_event, events_of, hold_chain_head
from .integrity import RecordChanged, ensure_intact
from .render import RENDERER, render_pdf
from .seal import seal_for_app
from .verification import code_for, remember_code

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
_HOUSEKEEPING = "consent_housekeeping"
_THREAD = "consent_render_worker"


# How a job's last_error starts when its record was refused (records/integrity.py).
REFUSED = "refused: "


def without_messages(exc: BaseException) -> str:
    """The traceback's frames only: an exception's message may quote patient text."""
    return "".join(traceback.format_tb(exc.__traceback__))


class LostClaim(Exception):
    """Another worker holds the job now (this one's lease lapsed): its PDF is not stored."""


@dataclass(frozen=True)
class Claim:
    """A render job held by this worker: `token` is its proof, known to it alone."""

    job_id: int
    record_id: str
    token: str


def lease() -> timedelta:
    return timedelta(seconds=float(current_app.config["PDF_RENDER_LEASE_SECONDS"]))


def _newest_version(record_id: str) -> tuple[int, int | None]:
    """The record's newest stored PDF version and the last event it shows (0, None: none)."""
    version = db.session.scalar(
        select(func.max(RecordPdf.version)).where(RecordPdf.record_id == record_id)
    )
    if version is None:
        return 0, None
    details = db.session.scalar(
        select(RecordEvent.details)
        .where(RecordEvent.record_id == record_id, RecordEvent.kind == EventKind.PDF_RENDERED)
        .order_by(RecordEvent.id.desc())
        .limit(1)
    )
    return version, (details or {}).get("events_through")


def render_and_store(record: ConsentRecord, held: Claim | None = None) -> RecordPdf | None:
    """Render and seal the record's next PDF version; store it with its SHA-256 (commits).

    The PDF shows the events the record has now; its pdf_rendered event names the last of
    them, so the same text can be rendered again later (document.rebuild_document). A record
    that no longer matches its chain is refused (RecordChanged) before anything is rendered:
    a forged row is never sealed.

    Versions are numbered in the order of the events they show: the number is taken under
    the event chain's lock (so nothing else is appended or stored meanwhile), and a render
    that finds a stored version showing as much as it does (renders of one record in
    several workers may finish in any order) stores nothing and returns None. Event ids
    themselves are handed out under that lock, so "shows events through id N" means every
    event of the record up to N. With `held`, a claim, only that claim's holder stores, and
    its job is done in the same transaction.
    """
    ensure_intact(record)
    events = events_of(record.id)
    through = events[-1].id if events else None
    code = code_for(record.id)
    document = document_for(record, events, code=code)
    unsealed = render_pdf(document)
    content = seal_for_app(current_app._get_current_object(), unsealed)
    if held is not None and not _finish(held):
        db.session.rollback()
        raise LostClaim(held.job_id)
    hold_chain_head()
    newest, newest_through = _newest_version(record.id)
    if newest and through is not None and newest_through is not None and (
        newest_through >= through
    ):
        db.session.commit()  # the job is done: a stored version shows all this one would
        log.info("The PDF of record %s is superseded by its version %s", record.id, newest)
        return None
    remember_code(record.id, code)
    pdf = RecordPdf(
        record_id=record.id,
        version=newest + 1,
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
            "version": pdf.version,
            "sha256": pdf.sha256,
            "events_through": through,
            # The paper it was laid out on, so the same version can be rendered again.
            "page_size": document["page_size"],
        },
    )
    db.session.commit()
    return pdf


def _lapsed(now: datetime):
    return or_(RenderJob.lease_expires_at.is_(None), RenderJob.lease_expires_at < now)


def _claimed(now, token: str) -> dict:
    """The columns a claim sets, however the job was picked."""
    return dict(status=JobStatus.RUNNING, claimed_at=now, claimed_by=token,
                lease_expires_at=now + lease(), attempts=RenderJob.attempts + 1)


def _claimable(now: datetime):
    """Waiting, or held by a worker whose lease lapsed (it died, or lost the database)."""
    return and_(
        RenderJob.attempts < MAX_ATTEMPTS,
        or_(
            RenderJob.status == JobStatus.PENDING,
            and_(RenderJob.status == JobStatus.RUNNING, _lapsed(now)),
        ),
    )


def _holding(held: Claim):
    return and_(
        RenderJob.id == held.job_id,
        RenderJob.claimed_by == held.token,
        RenderJob.status == JobStatus.RUNNING,
    )


def claim(job_id: int) -> Claim | None:
    """Take the job if it is free: one conditional UPDATE in its own short transaction, so
    of several workers (threads or processes, on either database) only one matches the row;
    on PostgreSQL a second claimant waits for the first's commit, then finds it taken."""
    now = utcnow()
    token = secrets.token_hex(16)
    taken = db.session.execute(
        update(RenderJob)
        .where(RenderJob.id == job_id, _claimable(now))
        .values(**_claimed(now, token))
    ).rowcount
    record_id = db.session.scalar(select(RenderJob.record_id).where(RenderJob.id == job_id))
    db.session.commit()
    return Claim(job_id, record_id, token) if taken == 1 else None


def _renew(held: Claim) -> bool:
    renewed = db.session.execute(
        update(RenderJob).where(_holding(held)).values(lease_expires_at=utcnow() + lease())
    ).rowcount
    db.session.commit()
    return renewed == 1


def _finish(held: Claim) -> bool:
    """Mark the job done if this worker still holds it (the caller's transaction commits).

    First in the storing transaction: the job's row is locked before the event chain's head,
    the one order every transaction that takes both keeps.
    """
    return db.session.execute(
        update(RenderJob).where(_holding(held))
        .values(status=JobStatus.DONE, finished_at=utcnow(), last_error=None)
    ).rowcount == 1


class LeaseKeeper:
    """Renews a claim's lease every third of its length, from a thread of its own, while the
    job renders: it lapses only when its holder has stopped for a whole lease."""

    def __init__(self, app: Flask, held: Claim):
        self.app, self.held = app, held
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pdf-lease", daemon=True)

    def __enter__(self) -> "LeaseKeeper":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        with self.app.app_context():
            every = lease().total_seconds() / 3
            while not self._stop.wait(every):
                try:
                    if not _renew(self.held):
                        return  # another worker took it over; the store will refuse ours
                except Exception as exc:  # a database blip: try again at the next turn
                    log.warning("Renewing a render lease failed (%s)", type(exc).__name__)
                finally:
                    db.session.remove()


def _release(held: Claim, exc: Exception) -> None:
    """A render failed: the job waits for a retry (or has failed for good), if still ours."""
    error = type(exc).__name__[:200]
    job = db.session.get(RenderJob, held.job_id)
    released = db.session.execute(
        update(RenderJob).where(_holding(held)).values(
            status=JobStatus.PENDING if job.attempts < MAX_ATTEMPTS else JobStatus.FAILED,
            last_error=error, claimed_by=None, lease_expires_at=None,
        )
    ).rowcount
    if released:
        append_event(
            held.record_id, EventKind.PDF_RENDER_FAILED, Actor.SYSTEM,
            {"attempt": job.attempts, "error": error},
        )
    db.session.commit()


def _refuse(held: Claim, refusal: RecordChanged) -> None:
    """A record that no longer matches its chain: fail the job for good, and say why.

    Not retried (nothing will make the forged row match again); `records rerender` tries
    again and is refused again until the database is restored. The reason names what
    changed, never a patient's data, so it goes into the job, an event and the log.
    """
    db.session.rollback()
    log.error("Refused to render the PDF of record %s: %s", refusal.record_id, refusal.reason)
    refused = db.session.execute(
        update(RenderJob).where(_holding(held)).values(
            status=JobStatus.FAILED, finished_at=utcnow(),
            last_error=f"{REFUSED}{refusal.reason}"[:200], claimed_by=None,
            lease_expires_at=None,
        )
    ).rowcount
    if refused:
        append_event(held.record_id, EventKind.PDF_RENDER_REFUSED, Actor.SYSTEM, {
            "reason": refusal.reason,
            "meaning": "Nothing was rendered or sealed: the stored record no longer matches "
            "what was signed. Run `flask --app wsgi audit check` and restore the database "
            "from a backup.",
        })
    db.session.commit()


def run_claim(held: Claim) -> bool:
    """Render a job this worker holds; True when its PDF was stored."""
    record = db.session.get(ConsentRecord, held.record_id)
    try:
        with LeaseKeeper(current_app._get_current_object(), held):
            return render_and_store(record, held) is not None
    except RecordChanged as refusal:
        _refuse(held, refusal)
        return False
    except LostClaim:
        log.warning("Render job %s was taken over by another worker", held.job_id)
        return False
    except Exception as exc:  # any failure: keep the record, leave the job for a retry
        db.session.rollback()
        log.error(
            "Rendering the PDF of record %s failed (%s); it will be retried\n%s",
            held.record_id, type(exc).__name__, without_messages(exc),
        )
        _release(held, exc)
        return False


def run_job(job_id: int) -> bool:
    """Claim and render one job; True when its PDF was stored."""
    held = claim(job_id)
    return run_claim(held) if held is not None else False


def claim_next(skip: frozenset[int] = frozenset()) -> Claim | None:
    """Take the oldest job free to take (but those in `skip`), in one short transaction.

    On PostgreSQL the row is picked FOR UPDATE SKIP LOCKED: workers never queue behind each
    other's claim, each takes the next job nobody is taking (tests/bench/run.py measures
    several workers draining a queue). SQLite has one writer at a time, so the UPDATE alone
    is atomic there (SQLAlchemy leaves FOR UPDATE out on SQLite).
    """
    now = utcnow()
    token = secrets.token_hex(16)
    free = [_claimable(now), *([RenderJob.id.not_in(skip)] if skip else [])]
    oldest = (
        select(RenderJob.id).where(*free).order_by(RenderJob.id).limit(1)
        .with_for_update(skip_locked=True).scalar_subquery()
    )
    taken = db.session.execute(
        update(RenderJob)
        .where(RenderJob.id == oldest, _claimable(now))
        .values(**_claimed(now, token))
        .returning(RenderJob.id, RenderJob.record_id)
    ).first()
    db.session.commit()
    return Claim(taken.id, taken.record_id, token) if taken is not None else None


def _fail_abandoned() -> None:
    """A job whose worker died on its last attempt has failed (records rerender retries it)."""
    now = utcnow()
    stranded = select(RenderJob.id, RenderJob.record_id, RenderJob.attempts).where(
        RenderJob.status == JobStatus.RUNNING, _lapsed(now), RenderJob.attempts >= MAX_ATTEMPTS
    )
    for job_id, record_id, attempts in db.session.execute(stranded).all():
        failed = db.session.execute(
            update(RenderJob)
            .where(RenderJob.id == job_id, RenderJob.status == JobStatus.RUNNING, _lapsed(now))
            .values(status=JobStatus.FAILED, last_error="WorkerLost", claimed_by=None)
        ).rowcount
        if failed:
            append_event(record_id, EventKind.PDF_RENDER_FAILED, Actor.SYSTEM,
                         {"attempt": attempts, "error": "WorkerLost"})
    db.session.commit()


def pending_job_ids(limit: int = 20) -> list[int]:
    """Jobs free to take now, oldest first."""
    return list(db.session.scalars(
        select(RenderJob.id).where(_claimable(utcnow())).order_by(RenderJob.id).limit(limit)
    ))


def process_pending(limit: int = 20) -> int:
    """Try up to `limit` jobs free to take now, each once (a failed one waits for the next
    pass); returns how many PDFs were stored."""
    _fail_abandoned()
    stored, tried = 0, set()
    while len(tried) < limit:
        held = claim_next(frozenset(tried))
        if held is None:
            break
        tried.add(held.job_id)
        stored += run_claim(held)
    return stored


def pending_job_for(record_id: str) -> RenderJob | None:
    return db.session.scalar(
        select(RenderJob).where(
            RenderJob.record_id == record_id,
            RenderJob.status.in_([JobStatus.PENDING, JobStatus.RUNNING, JobStatus.FAILED]),
        )
    )


@dataclass(frozen=True)
class Owed:
    retried: int  # failed jobs, and jobs of workers that died, given their attempts back
    queued: int  # records that had neither a PDF nor a job


def queue_owed() -> Owed:
    """Queue every PDF still owed (commits): failed jobs and jobs whose worker died (once
    their lease lapsed) get their attempts back, and each record that has no PDF and no
    job gets one."""
    now = utcnow()
    retried = db.session.execute(
        update(RenderJob)
        .where(or_(
            RenderJob.status == JobStatus.FAILED,
            and_(RenderJob.status == JobStatus.RUNNING, _lapsed(now)),
        ))
        .values(status=JobStatus.PENDING, attempts=0, claimed_by=None, lease_expires_at=None)
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


def render_all_owed(wait_seconds: float) -> int:
    """Render every job free to take, and wait up to `wait_seconds` for the jobs other
    workers hold: each is done by its holder, or its lease lapses and it is taken over
    here. Returns how many PDFs this call stored."""
    deadline = time.monotonic() + wait_seconds
    stored = 0
    while True:
        stored += process_pending()
        owed = db.session.scalar(
            select(func.count()).select_from(RenderJob)
            .where(RenderJob.status.in_([JobStatus.PENDING, JobStatus.RUNNING]))
        )
        if not owed or time.monotonic() >= deadline:
            return stored
        time.sleep(min(1.0, lease().total_seconds() / 6))


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
                if stored:
                    continue  # a full pass: more may be waiting, look again at once
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
        thread_worker(app).wake()


def thread_worker(app: Flask) -> "RenderWorker":
    """This app process's background loop (the "thread" render mode), made on first need."""
    worker = app.extensions.get(_THREAD)
    if worker is None:
        worker = app.extensions.setdefault(_THREAD, RenderWorker(app))
    return worker
