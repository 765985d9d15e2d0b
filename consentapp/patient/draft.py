"""A patient's draft on the shared tablet: found through the session, expired when idle, and
read through a typed view of what the steps saved.

The browser wipes an idle draft after PATIENT_IDLE_RESET_SECONDS, but a script can be
stopped (the tablet sleeps, the tab is closed), so the server holds the same line on its
own: a draft untouched for longer than that is discarded the next time anyone reaches for
it, and purge_stale_drafts() (run by the worker loop, see patient.init_app) removes the ones
nobody comes back to. Which draft is this browser's is kiosk.py's business.
"""

from datetime import date, datetime, timedelta

from flask import current_app, flash
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete

from .. import kiosk
from ..extensions import db
from ..models import PatientDraft, utcnow

TIMED_OUT_MESSAGE = _l(
    "For your privacy, we cleared the form because nobody used it for a while. "
    "Please start again."
)
# How often the worker loop looks for abandoned drafts.
PURGE_EVERY_SECONDS = 60


class DraftData:
    """What the steps saved in draft.data, by name. Read only: save() writes."""

    def __init__(self, draft: PatientDraft):
        self._data = draft.data or {}

    @property
    def done(self) -> set[str]:
        return set(self._data.get("done", []))

    @property
    def about(self) -> dict:
        """{"full_name", "date_of_birth" (ISO), "contact"}, once the first step is saved."""
        return self._data.get("about", {})

    @property
    def full_name(self) -> str:
        return self._data["about"]["full_name"]

    @property
    def date_of_birth(self) -> date:
        return date.fromisoformat(self._data["about"]["date_of_birth"])

    @property
    def answers(self) -> dict:
        return self._data.get("answers", {})

    @property
    def acknowledged_risks(self) -> list[str]:
        return self._data.get("acknowledged_risks", [])

    @property
    def teach_back(self) -> dict[str, list[str]]:
        """{question key: [option values chosen, in order]}."""
        return self._data.get("teach_back", {})

    @property
    def people(self) -> dict:
        """{"representative", "interpreter", "witness"}: who signs and who took part."""
        return self._data.get("signer") or {}

    @property
    def photos(self) -> dict | None:
        return self._data.get("photos")

    @property
    def esign(self) -> dict | None:
        return self._data.get("esign")

    @property
    def raw(self) -> dict:
        return self._data

    # A visit's check-in (patient/check_in.py): {"record", "started_by", "role", "misses"}.
    @property
    def check_in(self) -> dict | None:
        return self._data.get("check_in")

    @property
    def identity_confirmed(self) -> bool:
        return self._data.get("identity_confirmed") is True

    @property
    def check_in_answers(self) -> dict:
        return self._data.get("check_in_answers", {})


def data_of(draft: PatientDraft) -> DraftData:
    return DraftData(draft)


def idle_limit() -> timedelta:
    return timedelta(seconds=current_app.config["PATIENT_IDLE_RESET_SECONDS"])


def is_stale(draft: PatientDraft, now: datetime | None = None) -> bool:
    return draft.updated_at < (now or utcnow()) - idle_limit()


def current_draft() -> PatientDraft | None:
    """This browser's draft, or None; a stale one is deleted and the patient told why, and
    one that was signed moments ago leaves the finish screen due (kiosk.finish_due)."""
    draft_id = kiosk.draft_id()
    if not draft_id:
        return None
    draft = db.session.get(PatientDraft, draft_id)
    if draft is None:
        # Purged, or signed (the signing transaction deletes it) and the answer lost: then
        # the finish screen is due (kiosk.signed_meanwhile).
        kiosk.forget_draft()
        kiosk.signed_meanwhile(draft_id)
        return None
    if is_stale(draft):
        db.session.delete(draft)
        db.session.commit()
        flash(str(TIMED_OUT_MESSAGE))  # the session stores text, not a lazy string
        kiosk.forget_draft()
        return None
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


def purge_stale_drafts(max_idle: timedelta, now: datetime | None = None) -> int:
    """Delete every draft untouched for longer than max_idle; returns how many went."""
    cutoff = (now or utcnow()) - max_idle
    result = db.session.execute(delete(PatientDraft).where(PatientDraft.updated_at < cutoff))
    db.session.commit()
    return result.rowcount


def purge_abandoned() -> int:
    """The worker loop's housekeeping: abandoned drafts hold health answers, so they must not
    outlive the idle limit long."""
    return purge_stale_drafts(idle_limit())
