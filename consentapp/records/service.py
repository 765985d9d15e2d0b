"""Committing records and rendering their PDFs.

Facts before artefacts: one transaction writes the record, its first event and a render
job. Rendering happens afterwards, from the stored record, so a rendering failure can never
lose a signature; the job stays pending and is retried.
"""

import hashlib
import logging
import threading
import time
import traceback
from dataclasses import dataclass
from datetime import date, timedelta

from flask import Flask, current_app
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from ..catalog import definition_for
from ..drafts import idle_limit, purge_stale_drafts
from ..eligibility import evaluate
from ..extensions import db
from ..models import (
    ConsentRecord,
    EventKind,
    JobStatus,
    RecordEvent,
    RecordPdf,
    RenderJob,
    SignatureMethod,
    utcnow,
)
from ..procedures import Definition
from ..signature import Signature
from .content import content_details
from .document import build_document
from .events import append_event
from .integrity import RecordChanged, ensure_intact
from .render import RENDERER, render_pdf
from .seal import seal_for_app
from .search import search_key
from .status import add_listing
from .verification import code_for, remember_code, verification_url

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# A job claimed longer ago than this belongs to a worker that died; it may be claimed again.
CLAIM_LEASE = timedelta(minutes=5)
DRAFT_PURGE_EVERY_SECONDS = 60


@dataclass(frozen=True)
class Submission:
    """Everything the tablet collected, checked by the patient blueprint's forms."""

    submission_key: str
    definition_sha256: str
    language: str
    patient_name: str
    patient_dob: date
    patient_contact: str | None
    answers: dict
    acknowledged_risks: tuple[str, ...] = ()
    accepted_statements: tuple[str, ...] = ()
    signer_name: str | None = None
    # "drawn" (with `signature`) or "typed" (signer_name is the signature); None: not signed.
    signature_method: str | None = None
    signature: Signature | None = None
    representative: dict | None = None
    interpreter: dict | None = None
    witness: dict | None = None
    teach_back: list | None = None
    esign_agreement: dict | None = None  # consents.esign_agreement()
    photo_consent: dict | None = None  # consents.photo_consent()
    user_agent: str = ""
    address: str = ""


class AlreadySubmitted(Exception):
    """This draft was committed before (a double tap on Sign); carries the first record's id."""

    def __init__(self, record_id: str):
        super().__init__(record_id)
        self.record_id = record_id


def commit_record(definition: Definition, submission: Submission) -> ConsentRecord:
    """Write the record, its first event and its render job in one transaction."""
    eligibility = evaluate(definition, submission.answers)
    if submission.signature_method not in (None, *SignatureMethod.ALL):
        raise ValueError(f"unknown signature method {submission.signature_method!r}")
    signed = submission.signature_method is not None
    if signed and eligibility.outcome == "not_eligible":
        raise ValueError("a not-eligible screening cannot be signed")
    if signed and not submission.signer_name:
        raise ValueError("a signed record needs the signer's name")
    if (submission.signature_method == SignatureMethod.DRAWN) != (submission.signature is not None):
        raise ValueError("a drawn signature needs its strokes, and only a drawn one has them")
    now = utcnow()
    record = ConsentRecord(
        submission_key=submission.submission_key,
        procedure_slug=definition.slug,
        procedure_title=definition.title,
        definition_version=definition.version,
        definition_sha256=submission.definition_sha256,
        language=submission.language,
        patient_name=submission.patient_name,
        patient_name_search=search_key(submission.patient_name),
        patient_dob=submission.patient_dob,
        patient_contact=submission.patient_contact,
        answers=submission.answers,
        outcome=eligibility.outcome,
        outcome_reasons=[reason.as_dict() for reason in eligibility.reasons],
        acknowledged_risks=list(submission.acknowledged_risks),
        accepted_statements=list(submission.accepted_statements),
        signer_name=submission.signer_name,
        signature=submission.signature.as_dict() if submission.signature else None,
        signature_method=submission.signature_method,
        representative=submission.representative,
        interpreter=submission.interpreter,
        witness=submission.witness,
        teach_back=submission.teach_back,
        esign_agreement=submission.esign_agreement if signed else None,
        photo_consent=submission.photo_consent if signed else None,
        signed_at=now if signed else None,
        completed_at=now,
        user_agent=submission.user_agent[:400],
    )
    db.session.add(record)
    db.session.flush()
    # The chain carries the record's content hash (records/content.py): from here on the
    # row cannot change without audit check, rendering and verify noticing.
    append_event(
        record.id,
        EventKind.SIGNED if signed else EventKind.SCREENED_OUT,
        "patient",
        {"outcome": eligibility.outcome, "address": submission.address,
         **content_details(record)},
        at=now,
    )
    add_listing(record)
    db.session.add(RenderJob(record_id=record.id))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = db.session.scalar(
            select(ConsentRecord.id).where(
                ConsentRecord.submission_key == submission.submission_key
            )
        )
        if existing is None:
            raise
        raise AlreadySubmitted(existing) from None
    return record


def events_of(record_id: str, *, through: int | None = None) -> list[RecordEvent]:
    """The record's events in order; with `through`, only those up to that event id."""
    query = select(RecordEvent).where(RecordEvent.record_id == record_id)
    if through is not None:
        query = query.where(RecordEvent.id <= through)
    return list(db.session.scalars(query.order_by(RecordEvent.id)))


def document_for(
    record: ConsentRecord,
    events: list[RecordEvent],
    *,
    code: str,
    definition: Definition | None = None,
    sample: bool = False,
) -> dict:
    config = current_app.config
    return build_document(
        record,
        definition or definition_for(record.definition_sha256),
        events,
        clinic_name=config["CLINIC_NAME"],
        tz_name=config["CLINIC_TIMEZONE"],
        verification_code=code,
        verification_url=verification_url(code),
        sample=sample,
    )


def render_and_store(record: ConsentRecord) -> RecordPdf:
    """Render and seal the record's next PDF version; store it with its SHA-256 (commits).

    The PDF shows the events the record has now; its pdf_rendered event names the last of
    them, so the same text can be rendered again later (rebuild_document). A record that no
    longer matches its chain is refused (RecordChanged) before anything is rendered: a
    forged row is never sealed.
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
        "system",
        {
            "version": next_version,
            "sha256": pdf.sha256,
            "events_through": events[-1].id if events else None,
        },
    )
    db.session.commit()
    return pdf


def without_messages(exc: BaseException) -> str:
    """The traceback's frames only: an exception's message may quote patient text."""
    return "".join(traceback.format_tb(exc.__traceback__))


def rebuild_document(record: ConsentRecord, version: int) -> dict:
    """The document a stored PDF version was rendered from, built again from the database."""
    rendered = next(
        (
            event
            for event in events_of(record.id)
            if event.kind == EventKind.PDF_RENDERED and event.details.get("version") == version
        ),
        None,
    )
    if rendered is None:
        raise LookupError(f"record {record.id} has no PDF version {version}")
    through = rendered.details.get("events_through")
    events = events_of(record.id, through=through) if through is not None else []
    return document_for(record, events, code=code_for(record.id))


def _claim(job_id: int) -> bool:
    """Take a job atomically: only one worker's UPDATE can match the row it saw as free."""
    now = utcnow()
    claimable = or_(
        RenderJob.status == JobStatus.PENDING,
        (RenderJob.status == JobStatus.RUNNING) & (RenderJob.claimed_at < now - CLAIM_LEASE),
    )
    result = db.session.execute(
        update(RenderJob)
        .where(RenderJob.id == job_id, claimable, RenderJob.attempts < MAX_ATTEMPTS)
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
    job.last_error = f"refused: {refusal.reason}"[:200]
    append_event(job.record_id, EventKind.PDF_RENDER_REFUSED, "system", {
        "reason": refusal.reason,
        "meaning": "Nothing was rendered or sealed: the stored record no longer matches what "
        "was signed. Run `flask --app wsgi audit check` and restore the database from a "
        "backup.",
    })
    db.session.commit()


def run_job(job_id: int) -> bool:
    """Render one claimed job; True when the PDF was stored."""
    if not _claim(job_id):
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
            "system",
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
    now = utcnow()
    return list(
        db.session.scalars(
            select(RenderJob.id)
            .where(
                RenderJob.attempts < MAX_ATTEMPTS,
                or_(
                    RenderJob.status == JobStatus.PENDING,
                    (RenderJob.status == JobStatus.RUNNING)
                    & (RenderJob.claimed_at < now - CLAIM_LEASE),
                ),
            )
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


class RenderWorker:
    """A background thread that renders pending jobs; woken at once after each signing."""

    def __init__(self, app: Flask, poll_seconds: float = 5.0):
        self.app = app
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_draft_purge = 0.0

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="pdf-render", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        self.start()
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def run_once(self) -> int:
        with self.app.app_context():
            try:
                self._purge_stale_drafts_now_and_then()
                return process_pending()
            finally:
                db.session.remove()

    def _purge_stale_drafts_now_and_then(self) -> None:
        # Housekeeping rides on this loop because it is the one thread every deployment runs;
        # abandoned drafts hold health answers, so they must not outlive the idle limit long.
        now = time.monotonic()
        if now < self._next_draft_purge:
            return
        self._next_draft_purge = now + DRAFT_PURGE_EVERY_SECONDS
        purge_stale_drafts(idle_limit())

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception as exc:  # keep the thread alive; a database blip must not end it
                log.error(
                    "The PDF render loop failed (%s); trying again shortly\n%s",
                    type(exc).__name__, without_messages(exc),
                )
            self._wake.wait(self.poll_seconds)
            self._wake.clear()


def after_commit(record_id: str) -> None:
    """Get the record's PDF made, as the configured render mode says."""
    app = current_app._get_current_object()
    mode = app.config["PDF_RENDER_MODE"]
    if mode == "inline":
        job = pending_job_for(record_id)
        if job is not None:
            run_job(job.id)
    elif mode == "thread":
        worker = app.extensions.get("consent_render_worker")
        if worker is None:
            worker = app.extensions.setdefault("consent_render_worker", RenderWorker(app))
        worker.wake()
