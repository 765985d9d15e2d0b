"""A course's later visits, from the record page: hand the tablet over for a check-in on a
consent in force, or for a new consent when it no longer covers a visit.

Both end the staff session on this browser, as "Start a patient on this tablet" does
(handover.py): the tablet belongs to the patient until staff sign in again.
"""

from flask import redirect, request, url_for
from flask_login import current_user

from ... import kiosk
from ...models import SessionEnd
from ...procedures import catalog
from ...records import course
from ...records.integrity import record_problems
from ...webforms import ContinueForm
from .. import sessions
from ..access import requires
from .records import record_or_404, render_record

NOT_STARTED = "No check-in was started. "


@requires("start_check_in")
def start_check_in(record_id: str):
    item = record_or_404(record_id)
    # The button names the session it starts: a page left open while another tablet checked
    # the patient in (or a second click) starts nothing it did not say.
    session_number = request.form.get("session", "")
    if not ContinueForm().validate_on_submit() or not session_number.isdigit():
        return redirect(url_for("staff.record", record_id=item.id))
    if record_problems(item):
        return render_record(item, status_code=409, refusal=NOT_STARTED + (
            "This record no longer matches what was signed."))
    found = course.standing_now(item)
    if not found.covers:
        return render_record(item, status_code=409, refusal=NOT_STARTED + found.message)
    if int(session_number) != found.next_session:
        return render_record(item, status_code=409, refusal=NOT_STARTED + (
            f"Session {found.next_session - 1} was checked in meanwhile. Look at the visits "
            "below, then start the next check-in if the patient is here for another one."))
    started_by, role = current_user.email, current_user.role
    sessions.sign_out(SessionEnd.HANDED_OVER)
    return kiosk.clearing_site_data(kiosk.enter_check_in(
        item.id, item.definition_sha256, item.language, started_by=started_by, role=role,
    ))


@requires("start_check_in")
def start_new_consent(record_id: str):
    """The whole consent again, for the same procedure in the record's language."""
    item = record_or_404(record_id)
    if not ContinueForm().validate_on_submit() or \
            request.form.get("procedure") != item.procedure_slug:
        return redirect(url_for("staff.record", record_id=item.id))
    offered = catalog.in_language(item.procedure_slug, item.language)
    if offered is None:
        return render_record(item, status_code=409, refusal=(
            "This procedure is no longer offered, so no new consent was started."))
    sessions.sign_out(SessionEnd.HANDED_OVER)
    return kiosk.clearing_site_data(kiosk.enter_patient_mode(offered))
