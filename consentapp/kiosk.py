"""The shared tablet: entering and leaving patient mode, and the session keys that say so.

Both sides use this module and neither imports the other. The patient side enters patient
mode from the welcome screen, the staff side when front desk hands the tablet over; a staff
sign-in leaves it. Entering sends `entering_patient_mode` first, so a staff session still
open in this browser is ended (the staff side connects to it in its init_app).

The session holds no patient data: the random id of the draft (the draft itself lives in the
database, patient/draft.py), a mark that this browser belongs to a patient, the id of the
record the finish screen shows, and the patient's language (i18n.py).
"""

import secrets
from datetime import timedelta

from blinker import Namespace
from flask import current_app, make_response, redirect, session, url_for
from sqlalchemy import delete

from . import i18n
from .extensions import db
from .models import PatientDraft, RecordOutcome, utcnow
from .procedures import catalog
from .procedures.loader import LoadedDefinition
from .records.commit import recently_committed
from .records.course import recent_visit

DRAFT_KEY = "draft_id"
FINISHED_KEY = "finished"
PATIENT_MODE_KEY = "patient_mode"
# Where a patient's journey begins; where a visit's check-in does.
FIRST_STEP = ("patient.step", {"key": "about"})
CHECK_IN_START = "patient.check_in"

# Sent with every response that ends someone's turn on a shared device (a patient finishing
# or starting over, a reset after inactivity, staff signing out or handing the tablet over):
# the browser drops its cache and this site's storage, so Back and the next person find
# nothing. Not "cookies": the response that ends a turn sets the next one's session cookie
# (patient mode, the CSRF secret the next screen needs).
CLEAR_SITE_DATA = '"cache", "storage"'

_signals = Namespace()
# Sent (with the app as sender) just before this browser becomes a patient's.
entering_patient_mode = _signals.signal("entering-patient-mode")


def in_patient_mode() -> bool:
    return session.get(PATIENT_MODE_KEY, False)


def draft_id() -> str | None:
    return session.get(DRAFT_KEY)


def forget_draft() -> None:
    """The session no longer points at a draft (it is gone or was never there)."""
    session.pop(DRAFT_KEY, None)


def discard_draft() -> bool:
    """Delete this browser's draft, if any; True when this browser had one (even if the
    purge deleted its row already)."""
    draft_id = session.pop(DRAFT_KEY, None)
    if draft_id is not None:
        # A statement, not session.delete(): a second tap or the purge may have deleted the
        # row since this request loaded it, and deleting nothing is then the right outcome.
        db.session.execute(delete(PatientDraft).where(PatientDraft.id == draft_id))
        db.session.commit()
    return draft_id is not None


def start_draft(definition_sha256: str) -> PatientDraft:
    """A fresh draft under a new random id, and this browser's session pointing at it."""
    draft = PatientDraft(
        id=secrets.token_urlsafe(32), definition_sha256=definition_sha256, data={}
    )
    db.session.add(draft)
    db.session.commit()
    session[DRAFT_KEY] = draft.id
    return draft


def finish(info: dict) -> None:
    """What the finish screen shows once (ids only, no patient data)."""
    session[FINISHED_KEY] = info


def take_finished() -> dict | None:
    return session.pop(FINISHED_KEY, None)


def finish_due() -> bool:
    """The finish screen is waiting to be shown to this browser."""
    return FINISHED_KEY in session


def signed_meanwhile(draft_id: str) -> bool:
    """Whether the draft this browser points at, now gone, became a record moments ago; if
    so the finish screen is due (finish) and True.

    That is what a lost answer leaves: the tablet sent Sign, the record was committed (and
    the draft deleted with it), but the answer never arrived (the server died, the Wi-Fi
    dropped), so the cookie still names the draft. Its next request then shows "your form
    was saved" instead of an empty form to sign again. Only within PATIENT_IDLE_RESET_SECONDS
    of the record: a tablet left alone longer may be in the next patient's hands. The
    record is found by its submission key, the draft's random id; the session gains its
    record id, nothing about the patient.
    """
    window = timedelta(seconds=current_app.config["PATIENT_IDLE_RESET_SECONDS"])
    record = recently_committed(draft_id, since=utcnow() - window)
    if record is None:
        # A visit's check-in: its event carries the draft's id as its submission key.
        visit = recent_visit(draft_id, since=utcnow() - window)
        if visit is None or visit.details.get("signature_method") is None:
            return False
        finish({"kind": "visit", "definition": visit.details["definition_sha256"],
                "record": visit.record_id, "visit": visit.id})
        return True
    finish({
        "kind": "signed" if record.is_signed else RecordOutcome.NOT_ELIGIBLE,
        "definition": record.definition_sha256,
        "record": record.id,
    })
    return True


def forget_finished() -> None:
    session.pop(FINISHED_KEY, None)


def clearing_site_data(response):
    """`response` with the Clear-Site-Data header that ends a turn on the device."""
    response = make_response(response)
    response.headers["Clear-Site-Data"] = CLEAR_SITE_DATA
    return response


def end_patient_turn() -> bool:
    """Forget everything this patient chose: the draft and its answers, the finish screen
    and the language (their own, or the one front desk chose for them), so the next patient
    starts from the tablet's own language. Patient mode stays: only a staff sign-in ends it.
    True when there was a draft."""
    had_draft = discard_draft()
    forget_finished()
    i18n.forget()
    return had_draft


def enter_patient_mode(item: LoadedDefinition):
    """This browser now belongs to a patient: no staff session on it, a fresh draft pinned to
    the definition in the patient's language, and the session's language following it.

    Returns the redirect to the journey's first step. Only a staff sign-in leaves patient
    mode (leave_patient_mode).
    """
    entering_patient_mode.send(current_app._get_current_object())
    discard_draft()
    forget_finished()
    catalog.snapshot(item)
    start_draft(item.sha256)
    session[PATIENT_MODE_KEY] = True
    i18n.choose(item.definition.language)
    endpoint, values = FIRST_STEP
    return redirect(url_for(endpoint, **values))


def enter_check_in(record_id: str, definition_sha256: str, language: str, *,
                   started_by: str, role: str):
    """Front desk or a clinician hands the tablet over for a visit's check-in on a consent in
    force: the same kiosk rules as a first consent (no staff session left on the browser, a
    fresh draft, patient mode), the draft pinned to the definition the record was signed with
    and naming the record, and the tablet in the record's language.

    The session still holds only the draft's random id; the draft holds the record's id and
    who started the check-in, nothing about the patient."""
    entering_patient_mode.send(current_app._get_current_object())
    discard_draft()
    forget_finished()
    draft = start_draft(definition_sha256)
    draft.data = {"check_in": {"record": record_id, "started_by": started_by, "role": role,
                               "misses": 0}}
    db.session.commit()
    session[PATIENT_MODE_KEY] = True
    i18n.choose(language)
    return redirect(url_for(CHECK_IN_START))


def leave_patient_mode() -> None:
    """A staff member signs in on this browser: any unfinished draft is discarded."""
    discard_draft()
    forget_finished()
    session.pop(PATIENT_MODE_KEY, None)
