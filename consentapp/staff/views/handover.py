"""Hand-over to the tablet: front desk starts a patient here, and the staff session ends.

Patient mode (kiosk.py) is marked in the session (nothing about the patient, only that this
browser now belongs to one); leaving it needs a staff sign-in, which discards any unfinished
draft.
"""

from flask import flash, redirect, url_for

from ... import kiosk
from ...models import SessionEnd
from ...procedures import catalog
from .. import sessions
from ..access import requires
from ..forms import HandOverForm


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
    return kiosk.clearing_site_data(kiosk.enter_patient_mode(item))
