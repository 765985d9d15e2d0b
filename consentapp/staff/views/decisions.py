"""Clinician review, countersignature and withdrawal of consent, from the record page.

A form that fails shows the record page again with the message beside the form and what was
typed kept; a decision that succeeds is an event, and a new PDF version is on its way.
"""

from flask import current_app, flash, redirect, request, url_for
from flask_login import current_user

from ...models import EventKind
from ...records import decisions
from ...records.signature import SignatureError, parse
from ..access import requires
from ..forms import CountersignForm, PhotoWithdrawalForm, ReviewForm, WithdrawalForm
from .records import record_or_404, render_record

NEW_VERSION = "A new PDF version with this decision is being prepared; earlier versions are kept."


def _actor() -> decisions.StaffActor:
    return decisions.StaffActor(
        email=current_user.email,
        name=current_user.display_name,
        role=current_user.role,
        address=request.remote_addr or "",
    )


def _refused(item, error: decisions.DecisionRefused, **forms):
    return render_record(item, status_code=409, refusal=str(error), **forms)


@requires("review")
def review(record_id: str):
    item = record_or_404(record_id)
    form = ReviewForm()
    if not form.validate_on_submit():
        return render_record(item, review_form=form)
    try:
        decisions.review(item, _actor(), decision=form.decision.data, note=form.note.data)
    except decisions.DecisionRefused as error:
        return _refused(item, error, review_form=form)
    done = "Approved for treatment." if form.decision.data == EventKind.APPROVED else "Declined."
    flash(f"{done} {NEW_VERSION}")
    return redirect(url_for("staff.record", record_id=record_id))


@requires("countersign")
def countersign(record_id: str):
    item = record_or_404(record_id)
    form = CountersignForm()
    valid = form.validate_on_submit()
    signature, signature_error = None, None
    if form.signature.data:  # drawing is optional; when there is one it must be readable
        try:
            signature = parse(form.signature.data, current_app.config["SIGNATURE_MAX_POINTS"])
        except SignatureError as error:
            signature_error = str(error)
    if not valid or signature_error:
        return render_record(item, countersign_form=form,
                             signature_error=signature_error)
    try:
        decisions.countersign(
            item, _actor(), typed_name=form.clinician_name.data, signature=signature
        )
    except decisions.DecisionRefused as error:
        return _refused(item, error, countersign_form=form)
    flash(f"Countersigned. {NEW_VERSION}")
    return redirect(url_for("staff.record", record_id=record_id))


@requires("record_withdrawal")
def withdraw(record_id: str):
    item = record_or_404(record_id)
    form = WithdrawalForm()
    if not form.validate_on_submit():
        return render_record(item, withdrawal_form=form)
    try:
        decisions.withdraw(item, _actor(), reason=form.reason.data)
    except decisions.DecisionRefused as error:
        return _refused(item, error, withdrawal_form=form)
    flash(f"The withdrawal of consent is recorded. {NEW_VERSION}")
    return redirect(url_for("staff.record", record_id=record_id))


@requires("record_withdrawal")
def withdraw_photo_consent(record_id: str):
    item = record_or_404(record_id)
    form = PhotoWithdrawalForm()
    if not form.validate_on_submit():
        return render_record(item, refusal="Please choose which photo consent the patient "
                             "withdrew.")
    try:
        decisions.withdraw_photo_consent(item, _actor(), which=form.photo_consent.data)
    except decisions.DecisionRefused as error:
        return _refused(item, error)
    flash(f"The withdrawal of the photo consent is recorded. {NEW_VERSION}")
    return redirect(url_for("staff.record", record_id=record_id))
