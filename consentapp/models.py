"""The database schema.

Consent records and their events are append-only: the ORM refuses to update or delete them,
so review, withdrawal and corrections must be written as new events. PDFs are artefacts
rendered from a record; a record may have several PDF versions over its life.
"""

import uuid
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, event, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def new_uuid() -> str:
    return str(uuid.uuid4())


# The vocabularies below are StrEnums: each member *is* its string, so it is stored, compared,
# hashed into the event chain and written to JSON exactly as the plain strings were.


class StaffRole(StrEnum):
    ADMIN = "admin"
    CLINICIAN = "clinician"
    FRONTDESK = "frontdesk"


class StaffUser(UserMixin, db.Model):
    """One account per person, identified by their email (stored lower-case).

    Accounts are deactivated, never deleted: the audit trail names them for years.
    """

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(default=True)
    # Set by an administrator's password reset: the temporary password opens only the
    # page where the person chooses their own.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deactivated_at: Mapped[datetime | None]

    sessions: Mapped[list["StaffSession"]] = relationship(
        back_populates="user", order_by="StaffSession.id"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    @property
    def display_name(self) -> str:
        return self.full_name or self.email


class SessionEnd(StrEnum):
    """Why a staff session ended."""

    SIGNED_OUT = "signed_out"
    IDLE = "idle"
    DEACTIVATED = "deactivated"
    PASSWORD_CHANGED = "password_changed"
    HANDED_OVER = "handed_over"


class StaffSession(db.Model):
    """A signed-in staff session. The cookie carries a random token; only its hash is stored.

    The row is the authority: signing out, idling, deactivation or a password reset end it
    here, so a copied cookie stops working at once even though cookies are signed, not stored.
    """

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(64), default="")

    user: Mapped[StaffUser] = relationship(back_populates="sessions")


class DefinitionSnapshot(db.Model):
    """The exact bytes of a procedure definition a patient was shown, keyed by their SHA-256.

    Content-addressed, so editing a definition in forms/ never changes what an earlier
    record points to, and the record can be re-rendered years later from the database alone.
    """

    __tablename__ = "definition_snapshots"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    slug: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class PatientDraft(db.Model):
    """A patient's answers while they move through the tablet flow.

    Keyed by a random token held only in the signed session cookie; deleted when the
    journey ends, so the next patient on the tablet finds nothing.
    """

    __tablename__ = "patient_drafts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    definition_sha256: Mapped[str] = mapped_column(ForeignKey("definition_snapshots.sha256"))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RecordOutcome(StrEnum):
    """What the screening decided (procedures.eligibility), least serious first."""

    ELIGIBLE = "eligible"
    NEEDS_REVIEW = "needs_review"
    NOT_ELIGIBLE = "not_eligible"

    @property
    def severity(self) -> int:
        """0 for eligible, and higher the more serious: the most serious rule reached wins."""
        return list(RecordOutcome).index(self)


class RuleEffect(StrEnum):
    """What a screening rule does when it holds (procedures.eligibility): the first two raise
    the outcome to their RecordOutcome, a flag only tells the clinician something."""

    NEEDS_REVIEW = "needs_review"
    NOT_ELIGIBLE = "not_eligible"
    FLAG = "flag"

    @property
    def outcome(self) -> "RecordOutcome | None":
        """The outcome it raises the screening to; None for a flag, which holds nobody."""
        return None if self == RuleEffect.FLAG else RecordOutcome(self.value)


class SignatureMethod(StrEnum):
    DRAWN = "drawn"
    TYPED = "typed"


class PhotoKind(StrEnum):
    """The optional photo consents (the keys of ConsentRecord.photo_consent)."""

    CLINICAL = "clinical"  # before-and-after photos for the health record
    MARKETING = "marketing"  # their use to show the clinic's work


class Relationship(StrEnum):
    """Who may sign for a patient (ConsentRecord.representative["relationship"])."""

    PARENT = "parent"
    GUARDIAN = "guardian"
    LEGAL_REPRESENTATIVE = "legal_representative"


class ConsentRecord(db.Model):
    """What one patient saw, answered and (when eligible) signed. Never updated."""

    __tablename__ = "consent_records"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    # The draft's random id: a second tap on "Sign" finds it taken and creates nothing.
    submission_key: Mapped[str] = mapped_column(String(64), unique=True)
    procedure_slug: Mapped[str] = mapped_column(String(64))
    procedure_title: Mapped[str] = mapped_column(String(200))
    definition_version: Mapped[str] = mapped_column(String(32))
    definition_sha256: Mapped[str] = mapped_column(ForeignKey("definition_snapshots.sha256"))
    language: Mapped[str] = mapped_column(String(8))
    patient_name: Mapped[str] = mapped_column(String(200))
    # The name case-folded and stripped of accents (records.search.search_key), so that
    # staff find "Núñez" by typing "nunez"; written once, with the record.
    patient_name_search: Mapped[str] = mapped_column(String(400), default="", server_default="")
    patient_dob: Mapped[date]
    patient_contact: Mapped[str | None] = mapped_column(String(200))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(String(20))
    outcome_reasons: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    acknowledged_risks: Mapped[list[str]] = mapped_column(JSON, default=list)
    accepted_statements: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Null when the screening ended the journey before a signature was offered.
    signer_name: Mapped[str | None] = mapped_column(String(200))
    # Strokes of a drawn signature; null when the signer typed their name instead.
    signature: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # "drawn" or "typed" (SignatureMethod); null when nothing was signed. Records from before
    # this column existed could only be drawn.
    signature_method: Mapped[str | None] = mapped_column(String(10))
    # {"name", "relationship"}: a parent, guardian or legal representative signed for the
    # patient (always so for a patient under 18).
    representative: Mapped[dict[str, str] | None] = mapped_column(JSON)
    interpreter: Mapped[dict[str, str] | None] = mapped_column(JSON)  # {"name", "language"}
    witness: Mapped[dict[str, str] | None] = mapped_column(JSON)  # {"name"}
    # The check of understanding: [{"key", "attempts": [option values...], "correct": bool}].
    teach_back: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # The electronic records disclosure the signer agreed to before signing, word for word:
    # {"version", "language", "text": [...], "sha256", "agreed_at"} (consentapp.consents).
    esign_agreement: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The optional photo consents as given at signing: {"clinical": bool, "marketing": bool,
    # "language", "text": {"clinical": ..., "marketing": ...}}. A later withdrawal is an event.
    photo_consent: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    signed_at: Mapped[datetime | None]
    completed_at: Mapped[datetime] = mapped_column(default=utcnow)
    user_agent: Mapped[str] = mapped_column(String(400), default="")
    # The clinic's date the screening rules were run on (the patient's age is taken on it),
    # so the outcome can be worked out again exactly. Null on records from before it was kept.
    screened_on: Mapped[date | None]
    # The clinic's phone numbers as the patient was shown them when signing
    # ({"clinic_phone", "after_hours_phone"}, "" where none was set): the PDF prints these,
    # so a PDF made again after the clinic changes its number says what the patient was told.
    # Null when the definition tells the patient nothing to call about, or nothing was signed.
    clinic_contact: Mapped[dict[str, str] | None] = mapped_column(JSON)

    events: Mapped[list["RecordEvent"]] = relationship(
        back_populates="record", order_by="RecordEvent.id"
    )
    pdfs: Mapped[list["RecordPdf"]] = relationship(
        back_populates="record", order_by="RecordPdf.version"
    )
    listing: Mapped["RecordListing"] = relationship(back_populates="record")

    __table_args__ = (
        Index("ix_consent_records_completed_at", "completed_at"),
        Index("ix_consent_records_patient_name", "patient_name"),
        Index("ix_consent_records_patient_name_search", "patient_name_search"),
    )

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    @property
    def latest_pdf(self) -> "RecordPdf | None":
        return self.pdfs[-1] if self.pdfs else None


class EventKind(StrEnum):
    SIGNED = "signed"
    SCREENED_OUT = "screened_out"
    PDF_RENDERED = "pdf_rendered"
    PDF_RENDER_FAILED = "pdf_render_failed"
    VIEWED = "viewed"
    DOWNLOADED = "downloaded"
    APPROVED = "approved"
    DECLINED = "declined"
    COUNTERSIGNED = "countersigned"
    WITHDRAWN = "withdrawn"
    PHOTO_CONSENT_WITHDRAWN = "photo_consent_withdrawn"
    PRINTED = "printed"
    EXPORTED = "exported"
    PATIENT_COPY_DOWNLOADED = "patient_copy_downloaded"
    # Rendering refused: the record no longer matches its chain (records/integrity.py).
    PDF_RENDER_REFUSED = "pdf_render_refused"
    # The content hash of a record signed before hashes were kept, added by the migration
    # record_content_hashes: the record is trusted as it stood at that migration.
    CONTENT_HASH_RECORDED = "content_hash_recorded"
    # A later visit of a course: the patient confirmed who they are, answered the check-in
    # questions and signed (records/course.py); its details are the visit's facts.
    VISIT_CHECKED_IN = "visit_checked_in"
    # A check-in ended because the date of birth did not match three times: nothing else kept.
    VISIT_IDENTITY_NOT_CONFIRMED = "visit_identity_not_confirmed"


class Actor(StrEnum):
    """Who made an event when it was not a staff member (whose actor is their email)."""

    PATIENT = "patient"
    SYSTEM = "system"


class RecordEvent(db.Model):
    """One fact in a record's history, hash-chained to the event before it (records/events.py)."""

    __tablename__ = "record_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("consent_records.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # an EventKind
    # Actor.PATIENT, Actor.SYSTEM, or the email of the staff member who acted.
    actor: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # SHA-256 of the previous event in the chain, and of this event's content plus that link.
    # prev_hash is unique: two events can never claim the same predecessor, so the chain
    # cannot fork even if two writers slipped past the chain-head lock.
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    record: Mapped[ConsentRecord] = relationship(back_populates="events")

    # Unique links of the hash chain; the audit page filters by who and when.
    __table_args__ = (
        db.UniqueConstraint("prev_hash", name="uq_record_events_prev_hash"),
        db.UniqueConstraint("hash", name="uq_record_events_hash"),
        Index("ix_record_events_created_at", "created_at"),
        Index("ix_record_events_actor_created", "actor", "created_at"),
        Index("ix_record_events_kind_created", "kind", "created_at"),
    )


class EventChainHead(db.Model):
    """The newest link of the event chain: one row, locked by every append.

    Updating it serialises appends on every database (a row lock on PostgreSQL, the write
    lock on SQLite), and it pins the chain's end, so deleting the newest events is caught too.
    """

    __tablename__ = "event_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_hash: Mapped[str] = mapped_column(String(64))
    last_event_id: Mapped[int | None]
    event_count: Mapped[int] = mapped_column(default=0)


class VerificationCode(db.Model):
    """The short code printed on every page of a record's PDF; it carries no patient data."""

    __tablename__ = "verification_codes"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("consent_records.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        db.UniqueConstraint("record_id", name="uq_verification_codes_record_id"),
    )


class RecordStatus(StrEnum):
    """Where a record stands for staff; derived from its outcome and events (records.status)."""

    NEEDS_REVIEW = "needs_review"
    SIGNED = "signed"
    DECLINED = "declined"
    NOT_ELIGIBLE = "not_eligible"
    WITHDRAWN = "withdrawn"


class RecordListing(db.Model):
    """One narrow row per record: what the dashboard filters, sorts and counts by.

    The name key, birth date, procedure and time are copied from the record when it is
    committed; the status is derived from its events (records.status) and rewritten in the
    same transaction as each event that changes it. The record and its events stay untouched,
    and a search over 100,000 records reads this small table, not the records' answers.
    """

    __tablename__ = "record_listings"

    record_id: Mapped[str] = mapped_column(ForeignKey("consent_records.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    patient_name_search: Mapped[str] = mapped_column(String(400))
    patient_dob: Mapped[date]
    procedure_slug: Mapped[str] = mapped_column(String(64))
    completed_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # The course a signed consent covers (records/course.py), so the dashboard can show
    # "session 3 of 6" and find the consents due for a new one with one query: the sessions
    # it allows (null: its definition has no course), the sessions used so far, the last
    # clinic day it covers, and the major version of the definition it was signed with.
    course_max_sessions: Mapped[int | None]
    course_sessions_used: Mapped[int | None]
    course_ends_on: Mapped[date | None]
    definition_major: Mapped[int | None]

    record: Mapped[ConsentRecord] = relationship(back_populates="listing")

    # Covering indexes (tests/bench/search_bench.py measures them): each holds every column
    # a search filters on, so the page, the status counts and the review queue are read from
    # one index, never the table. The first serves the default order and date ranges, the
    # second the status tabs and the counts, the third and fourth the name sorts.
    __table_args__ = (
        Index("ix_record_listings_completed", "completed_at", "record_id", "status",
              "procedure_slug", "patient_dob", "patient_name_search"),
        Index("ix_record_listings_status", "status", "completed_at", "record_id",
              "procedure_slug", "patient_dob", "patient_name_search"),
        Index("ix_record_listings_status_name", "status", "patient_name_search",
              "completed_at", "record_id", "procedure_slug", "patient_dob"),
        Index("ix_record_listings_patient_name_search", "patient_name_search", "completed_at",
              "record_id", "status", "procedure_slug", "patient_dob"),
        Index("ix_record_listings_patient_dob", "patient_dob"),
    )


class RecordPdf(db.Model):
    __tablename__ = "record_pdfs"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("consent_records.id"), index=True)
    version: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    renderer: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    record: Mapped[ConsentRecord] = relationship(back_populates="pdfs")

    __table_args__ = (db.UniqueConstraint("record_id", "version"),)


class JobStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class RenderJob(db.Model):
    """Outbox row, written in the signing transaction: a job exists exactly when a record does."""

    __tablename__ = "render_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("consent_records.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_at: Mapped[datetime | None]
    # The claim: a random token its holder alone knows, and until when it holds the job.
    # The holder renews the lease while it renders; a lapsed lease frees the job for any
    # worker, and only the holder of the current claim may store its PDF (records.service).
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # The exception's type only: a message could quote patient text.
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WorkerHeartbeat(db.Model):
    """One row per worker loop (the `worker` command, or an app process's render thread),
    rewritten every few seconds while it runs: /healthz and `doctor` tell a live worker from
    a stopped one by the newest beat. A host name and a process id; nothing about anyone."""

    __tablename__ = "worker_heartbeats"

    worker_id: Mapped[str] = mapped_column(String(200), primary_key=True)  # host:pid
    mode: Mapped[str] = mapped_column(String(16))  # PDF_RENDER_MODE: thread or worker
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    beat_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class PatientCopyLink(db.Model):
    """A single-use link to a signed record's PDF, shown as a QR code on the finish screen.

    Only the SHA-256 of the random token is stored, so the database alone cannot open a link;
    the link itself carries nothing about the patient.
    """

    __tablename__ = "patient_copy_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("consent_records.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class RecordListExport(db.Model):
    """One export of the dashboard's search as CSV: who, when, what they searched for and how
    many records it held. One row per export; the records themselves get no event each."""

    __tablename__ = "record_list_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The dashboard's filters as typed (names included: they are what was searched for).
    search: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    record_count: Mapped[int] = mapped_column(default=0)
    address: Mapped[str] = mapped_column(String(64), default="")

    __table_args__ = (Index("ix_record_list_exports_created_at", "created_at"),)


class RateLimitWindow(db.Model):
    """One rate-limit key's moving window, shared by every process (consentapp/rate_limits.py).

    `entries` holds the times (epoch seconds) of the entries in the window, newest first and
    never more than the limit; `counter` serves the fixed-window strategy. A row whose
    window has passed (`expires_at`) is deleted by the next write.
    """

    __tablename__ = "rate_limit_windows"

    key: Mapped[str] = mapped_column(String(600), primary_key=True)
    entries: Mapped[str] = mapped_column(Text, default="[]")
    counter: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[float] = mapped_column(index=True)


class SavedSearch(db.Model):
    """The dashboard's filters, kept on the server so no name or birth date is in a URL.

    The search form is posted; its filters are stored here under a random id, and the
    results page, its status tabs, its pages and its CSV link carry only that id. A search
    is read back only in the staff session that made it, and is deleted when it is a day old.
    """

    __tablename__ = "saved_searches"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    staff_session_id: Mapped[int] = mapped_column(ForeignKey("staff_sessions.id"), index=True)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class AppendOnlyViolation(RuntimeError):
    """Somebody tried to change or erase part of a signed record."""


def _refuse_change(mapper, connection, target):
    raise AppendOnlyViolation(
        f"{type(target).__name__} rows are append-only; record a new event instead."
    )


for _model in (ConsentRecord, RecordEvent, RecordPdf, DefinitionSnapshot, VerificationCode,
               RecordListExport):
    event.listen(_model, "before_update", _refuse_change)
    event.listen(_model, "before_delete", _refuse_change)
