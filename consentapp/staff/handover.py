"""Hand-over to the tablet: front desk starts a patient here, and the staff session ends.

Patient mode is marked in the session (nothing about the patient, only that this browser now
belongs to one); leaving it needs a staff sign-in, which discards any unfinished draft.
"""

from flask import flash, make_response, redirect, url_for

from .. import catalog
from ..models import SessionEnd
from ..patient.views import begin_patient_mode
from ..security import CLEAR_SITE_DATA
from . import bp, sessions
from .access import requires
from .forms import HandOverForm


@bp.post("/hand-over")
@requires("hand_over")
def hand_over():
    form = HandOverForm()
    valid = form.validate_on_submit()
    item = catalog.in_language(form.procedure.data or "", form.language.data or "en")
    if not valid or item is None:
        flash("Please choose a procedure, then press “Start a patient on this tablet”.")
        return redirect(url_for("staff.records"))
    sessions.sign_out(SessionEnd.HANDED_OVER)
    # The staff pages this browser kept go before the patient holds it.
    response = make_response(begin_patient_mode(item))
    response.headers["Clear-Site-Data"] = CLEAR_SITE_DATA
    return response
