"""The patient's own copy: a single-use, short-lived link to their signed PDF.

The link holds a random token and nothing else; only the token's SHA-256 is stored, with the
record it opens, when it expires and when it was used. Using it is one atomic UPDATE that
only an unused, unexpired link matches, so two phones racing for the same link get one copy.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import select, update

from ..extensions import db
from ..models import Actor, EventKind, PatientCopyLink, RecordPdf, utcnow
from .events import append_event

TOKEN_BYTES = 32
# secrets.token_urlsafe(32) is 43 characters; anything much longer is not one of ours.
MAX_TOKEN_LENGTH = 64


class LinkState(StrEnum):
    READY = "ready"
    PREPARING = "preparing"  # valid, but the PDF is not rendered yet
    USED = "used"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(record_id: str, minutes: float) -> str:
    """A new link for the record, valid for `minutes`; returns the token (commits)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = utcnow()
    db.session.add(PatientCopyLink(
        token_sha256=_digest(token), record_id=record_id, created_at=now,
        expires_at=now + timedelta(minutes=minutes),
    ))
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
    if latest_pdf(link.record_id) is None:
        return LinkState.PREPARING
    return LinkState.READY


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
    if pdf is None:
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
