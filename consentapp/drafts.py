"""A patient's draft on the shared tablet: found through the session, expired when idle.

The browser wipes an idle draft after PATIENT_IDLE_RESET_SECONDS, but a script can be
stopped (the tablet sleeps, the tab is closed), so the server holds the same line on its
own: a draft untouched for longer than that is discarded the next time anyone reaches for
it, and purge_stale_drafts() removes the ones nobody comes back to.
"""

from datetime import datetime, timedelta

from flask import current_app, flash, session
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete

from .extensions import db
from .models import PatientDraft, utcnow

DRAFT_KEY = "draft_id"
TIMED_OUT_MESSAGE = _l(
    "For your privacy, we cleared the form because nobody used it for a while. "
    "Please start again."
)


def idle_limit() -> timedelta:
    return timedelta(seconds=current_app.config["PATIENT_IDLE_RESET_SECONDS"])


def is_stale(draft: PatientDraft, now: datetime | None = None) -> bool:
    return draft.updated_at < (now or utcnow()) - idle_limit()


def current_draft() -> PatientDraft | None:
    """This browser's draft, or None; a stale one is deleted and the patient told why."""
    draft_id = session.get(DRAFT_KEY)
    if not draft_id:
        return None
    draft = db.session.get(PatientDraft, draft_id)
    if draft is not None and is_stale(draft):
        db.session.delete(draft)
        db.session.commit()
        flash(str(TIMED_OUT_MESSAGE))  # the session stores text, not a lazy string
        draft = None
    if draft is None:
        session.pop(DRAFT_KEY, None)
    return draft


def start_draft(draft_id: str, definition_sha256: str) -> PatientDraft:
    draft = PatientDraft(id=draft_id, definition_sha256=definition_sha256, data={})
    db.session.add(draft)
    db.session.commit()
    session[DRAFT_KEY] = draft.id
    return draft


def save(draft: PatientDraft, **changes) -> None:
    # JSON columns do not see in-place edits: always assign a new dict.
    draft.data = {**draft.data, **changes}
    draft.updated_at = utcnow()
    db.session.commit()


def touch(draft: PatientDraft) -> None:
    """The patient is still there (reading, or pressed "I need more time")."""
    draft.updated_at = utcnow()
    db.session.commit()


def discard_draft() -> bool:
    """Delete this browser's draft, if any; True when this browser had one (even if the
    purge deleted its row already)."""
    draft_id = session.pop(DRAFT_KEY, None)
    draft = db.session.get(PatientDraft, draft_id) if draft_id else None
    if draft is not None:
        db.session.delete(draft)
        db.session.commit()
    return draft_id is not None


def purge_stale_drafts(max_idle: timedelta, now: datetime | None = None) -> int:
    """Delete every draft untouched for longer than max_idle; returns how many went."""
    cutoff = (now or utcnow()) - max_idle
    result = db.session.execute(delete(PatientDraft).where(PatientDraft.updated_at < cutoff))
    db.session.commit()
    return result.rowcount
