"""Verify a PDF: upload a file for the seal's verdict, or open a record's page by its code."""

from flask import current_app, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import RequestEntityTooLarge

from ...extensions import csrf, db
from ...models import ConsentRecord, EventKind
from ...records.events import append_event
from ...records.verification import record_id_for
from ...records.verify import Verdict, verify, verify_all
from ..access import requires
from ..forms import VerifyPdfForm

# A consent PDF from this system is well under 1 MB; allow other files room to be judged.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
VERDICT_STYLES = {Verdict.VALID: "valid", Verdict.BROKEN: "broken", Verdict.NOT_STORED: "unknown"}


def _app():
    return current_app._get_current_object()


# CSRFProtect checks tokens before any view runs, so it would refuse a PDF larger than the
# app-wide request limit before this view can raise it. The form checks its own CSRF token
# instead (FlaskForm does when CSRF is enabled), so the page is no less protected.
@csrf.exempt
@requires("view_records")
def verify_pdf():
    request.max_content_length = MAX_UPLOAD_BYTES
    result = None
    too_large = False
    try:
        form = VerifyPdfForm()
        submitted = form.validate_on_submit()
    except RequestEntityTooLarge:
        form, submitted, too_large = VerifyPdfForm(formdata=None), False, True
        form.pdf.errors = [
            f"That file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB. A PDF from "
            "this system is much smaller, so it is not one of ours."
        ]
    if request.method == "POST" and not too_large and form.csrf_token.errors:
        # The same friendly "page had expired" answer as every other form.
        raise CSRFError(form.csrf_token.errors[0])
    if submitted:
        # The upload's own stream (a temporary file past 500 KB): hashed in chunks, read
        # whole only when it is small enough to be checked at all (records/verify.py).
        result = verify(_app(), form.pdf.data.stream)
    # Like every other form here: a missing file is answered on the same screen, status 200.
    status = 413 if too_large else 200
    return render_template(
        "staff/verify.html", form=form, result=result, styles=VERDICT_STYLES
    ), status


@requires("view_records")
def verify_record(code: str):
    record_id = record_id_for(code)
    record = db.session.get(ConsentRecord, record_id) if record_id else None
    if record is None:
        return render_template("staff/verify_record.html", record=None, code=code), 404
    append_event(
        record.id,
        EventKind.VIEWED,
        current_user.email,
        {
            "address": request.remote_addr or "",
            "user_agent": (request.user_agent.string or "")[:400],
            "via": "verification code",
        },
    )
    db.session.commit()
    pdfs = list(reversed(record.pdfs))
    checks = list(zip(pdfs, verify_all(_app(), [pdf.content for pdf in pdfs]), strict=True))
    return render_template(
        "staff/verify_record.html", record=record, code=code, checks=checks,
        form=VerifyPdfForm(formdata=None), styles=VERDICT_STYLES,
    )
