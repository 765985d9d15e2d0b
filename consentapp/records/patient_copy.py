"""The patient's own copy: a single-use, short-lived link to their signed PDF.

The link holds a token and nothing else: one per record, a keyed hash (link_token) that
takes the app's secret key and the database together to make. Only the token's SHA-256 is
stored, with the record it opens, when it expires and when it was used. Using it is one
atomic UPDATE that only an unused, unexpired link matches, so two phones racing for the
same link get one copy.
"""

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import select, update

from ..database import insert_if_missing
from ..extensions import db
from ..models import (
    Actor,
    ConsentRecord,
    EventKind,
    JobStatus,
    PatientCopyLink,
    RecordPdf,
    RenderJob,
    utcnow,
)
from .events import append_event

# A token is 43 characters (32 bytes, URL-safe base64); anything much longer is not ours.
MAX_TOKEN_LENGTH = 64


class LinkState(StrEnum):
    READY = "ready"
    PREPARING = "preparing"  # valid, but the PDF is not rendered yet
    USED = "used"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_token(record: ConsentRecord, secret_key: str, seed: str = "") -> str:
    """The token of the record's finish-screen link: derived rather than drawn at random, so
    the finish screen shown twice (a double tap, a retry after a lost answer) shows the same
    single-use link, never a second one. An HMAC, with the app's secret key, of the record
    id and its submission key (the draft's random id, never shown anywhere): neither the
    database alone nor the key alone can make it. A visit's check-in gives its own `seed`,
    so each visit's finish screen has a fresh single-use link to the newest version."""
    message = f"patient-copy:{record.id}:{record.submission_key}".encode()
    if seed:
        message += f":{seed}".encode()
    digest = hmac.new(secret_key.encode(), message, hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


def issue(record_id: str, minutes: float, secret_key: str, seed: str = "") -> str:
    """The record's link, valid for `minutes` from when it was first issued; returns the
    token (commits)."""
    token = link_token(db.session.get(ConsentRecord, record_id), secret_key, seed)
    now = utcnow()
    insert_if_missing(PatientCopyLink, {
        "token_sha256": _digest(token), "record_id": record_id, "created_at": now,
        "expires_at": now + timedelta(minutes=minutes),
    }, key=["token_sha256"])
    db.session.commit()
    return token


def _find(token: str) -> PatientCopyLink | None:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return db.session.scalar(
        select(PatientCopyLink).where(PatientCopyLink.token_sha256 == _digest(token))
    )


def latest_pdf(record_id: str) -> RecordPdf | None:
    return db.session.scalar(
        select(RecordPdf).where(RecordPdf.record_id == record_id)
        .order_by(RecordPdf.version.desc()).limit(1)
    )


def state(token: str) -> str:
    link = _find(token)
    if link is None:
        return LinkState.UNKNOWN
    if link.used_at is not None:
        return LinkState.USED
    if link.expires_at <= utcnow():
        return LinkState.EXPIRED
    if latest_pdf(link.record_id) is None or _owed(link.record_id):
        return LinkState.PREPARING
    return LinkState.READY


def _owed(record_id: str) -> bool:
    """A newer version is being made (a visit's check-in, a decision): the link waits for it
    rather than hand over the one before."""
    return db.session.scalar(
        select(RenderJob.id).where(RenderJob.record_id == record_id,
                                   RenderJob.status.in_([JobStatus.PENDING, JobStatus.RUNNING]))
        .limit(1)
    ) is not None


def record_of(token: str) -> str | None:
    """The record a link that still works opens (None for a used, expired or unknown one)."""
    link = _find(token)
    if link is None or link.used_at is not None or link.expires_at <= utcnow():
        return None
    return link.record_id


@dataclass(frozen=True)
class Claimed:
    pdf: RecordPdf | None
    state: str


def claim(token: str, *, address: str, user_agent: str) -> Claimed:
    """Use the link: mark it used and record the download, in one transaction.

    A link whose PDF is still being rendered is left unused, so the patient can try again.
    """
    link = _find(token)
    if link is None:
        return Claimed(None, LinkState.UNKNOWN)
    pdf = latest_pdf(link.record_id)
    if pdf is None or _owed(link.record_id):
        found = state(token)
        return Claimed(None, found)
    now = utcnow()
    used = db.session.execute(
        update(PatientCopyLink)
        .where(
            PatientCopyLink.id == link.id,
            PatientCopyLink.used_at.is_(None),
            PatientCopyLink.expires_at > now,
        )
        .values(used_at=now)
    )
    if used.rowcount != 1:
        db.session.rollback()
        return Claimed(None, state(token))
    append_event(link.record_id, EventKind.PATIENT_COPY_DOWNLOADED, Actor.PATIENT, {
        "version": pdf.version, "address": address, "user_agent": user_agent[:400],
    }, at=now)
    db.session.commit()
    return Claimed(pdf, LinkState.READY)
