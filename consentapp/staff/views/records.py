"""One record for staff: its page and its PDF versions. Every view and download is audited."""

import re
import unicodedata
from io import BytesIO

from flask import Response, abort, current_app, render_template, request, send_file
from flask_login import current_user
from sqlalchemy import select

from ...extensions import db
from ...i18n import english_name
from ...models import ConsentRecord, EventKind, RecordPdf
from ...procedures import catalog
from ...procedures.answers import answered_steps, for_the_clinician
from ...procedures.eligibility import stored_reasons
from ...records import course
from ...records.aftercare_sheet import NoAftercare, sheet_for
from ...records.decisions import COUNTERSIGN_STATEMENT, current_status
from ...records.document import photo_consents, record_age, visits
from ...records.events import append_event
from ...records.fhir import build_bundle
from ...records.integrity import record_problems
from ...records.jobs import pending_job_for
from ...webforms import ContinueForm
from ..access import requires
from ..forms import CountersignForm, ReviewForm, WithdrawalForm
from ..labels import COURSE_END_LABELS

# A PDF shown in the browser's own viewer (to print it): the app's page policy would stop
# Chrome's viewer from embedding the file, so this response allows exactly that and no more.
INLINE_PDF_POLICY = "default-src 'none'; object-src 'self'; frame-ancestors 'none'"

DECISION_KINDS = (EventKind.APPROVED, EventKind.DECLINED)


def _audit(record_id: str, kind: str, **details) -> None:
    details = {
        "address": request.remote_addr or "",
        "user_agent": (request.user_agent.string or "")[:400],
        **details,
    }
    append_event(record_id, kind, current_user.email, details)
    db.session.commit()


def record_or_404(record_id: str) -> ConsentRecord:
    record = db.session.get(ConsentRecord, record_id)
    if record is None:
        abort(404)
    return record


def render_record(item: ConsentRecord, *, status_code: int = 200, refusal: str | None = None,
                  signature_error=None, review_form=None, countersign_form=None,
                  withdrawal_form=None):
    """The record page, with any form that failed validation shown again with its errors,
    and `refusal` saying why a decision could not be made."""
    _audit(item.id, EventKind.VIEWED)
    events = list(item.events)
    definition = catalog.definition_for(item.definition_sha256)
    age = record_age(item)
    countersign_form = countersign_form or CountersignForm(
        data={"clinician_name": current_user.full_name}
    )
    page = render_template(
        "staff/record.html",
        record=item,
        refusal=refusal,
        status=current_status(item),
        events=events,
        reviews=[event for event in events if event.kind in DECISION_KINDS],
        countersignature=next((e for e in events if e.kind == EventKind.COUNTERSIGNED), None),
        withdrawal=next((e for e in events if e.kind == EventKind.WITHDRAWN), None),
        answered=answered_steps(definition, item.answers, age),
        # Every rule that held: its effect, what the patient read, the clinician's note and
        # the answers it read.
        screening=for_the_clinician(definition, stored_reasons(item.outcome_reasons),
                                    item.answers, age, noted_only=False),
        aftercare_sheet=item.is_signed and definition.aftercare is not None,
        record_language=english_name(item.language),
        pending_job=pending_job_for(item.id),
        review_form=review_form or ReviewForm(),
        countersign_form=countersign_form,
        countersign_statement=COUNTERSIGN_STATEMENT,
        signature_error=signature_error,
        withdrawal_form=withdrawal_form or WithdrawalForm(),
        photos=photo_consents(item, events, current_app.config["CLINIC_TIMEZONE"]),
        # Shown above everything: staff must not decide on a record that was forged.
        integrity_problems=record_problems(item),
        course=course.standing_now(item) if item.is_signed else None,
        visits=visits(item, definition, events, current_app.config["CLINIC_TIMEZONE"]),
        course_end_labels=COURSE_END_LABELS,
        start_form=ContinueForm(),
    )
    return page, status_code


@requires("view_records")
def record(record_id: str):
    return render_record(record_or_404(record_id))


def pdf_filename(item: ConsentRecord, version: int) -> str:
    """consent-<procedure>-<surname>-<date>-v<n>.pdf, with nothing but safe ASCII."""
    surname = item.patient_name.split()[-1] if item.patient_name.split() else "patient"
    # "Núñez" -> "nunez": fold accents rather than lose the letters.
    folded = unicodedata.normalize("NFKD", surname).encode("ascii", "ignore").decode()
    safe = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-") or "patient"
    day = item.completed_at.strftime("%Y%m%d")
    return f"consent-{item.procedure_slug}-{safe}-{day}-{item.id[:8]}-v{version}.pdf"


def _pdf_or_404(item: ConsentRecord, version: int | None) -> RecordPdf:
    query = select(RecordPdf).where(RecordPdf.record_id == item.id)
    if version is None:
        pdf = db.session.scalar(query.order_by(RecordPdf.version.desc()).limit(1))
    else:
        pdf = db.session.scalar(query.where(RecordPdf.version == version))
    if pdf is None:
        abort(404)
    return pdf


@requires("view_records")
def download_pdf(record_id: str, version: int | None = None):
    item = record_or_404(record_id)
    pdf = _pdf_or_404(item, version)
    _audit(item.id, EventKind.DOWNLOADED, version=pdf.version)
    return send_file(
        BytesIO(pdf.content),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=pdf_filename(item, pdf.version),
    )


@requires("view_records")
def print_pdf(record_id: str):
    """The latest PDF shown in the browser (inline), for its print dialog; audited."""
    item = record_or_404(record_id)
    pdf = _pdf_or_404(item, None)
    _audit(item.id, EventKind.PRINTED, version=pdf.version)
    response = send_file(
        BytesIO(pdf.content),
        mimetype="application/pdf",
        as_attachment=False,
        download_name=pdf_filename(item, pdf.version),
    )
    response.headers["Content-Security-Policy"] = INLINE_PDF_POLICY
    return response


@requires("view_records")
def aftercare_sheet(record_id: str):
    """The one-page aftercare sheet in the patient's language, shown in the browser to print
    (a handout from today's settings, never stored); audited as a print."""
    item = record_or_404(record_id)
    try:
        content = sheet_for(item, catalog.definition_for(item.definition_sha256))
    except NoAftercare:
        abort(404)
    _audit(item.id, EventKind.PRINTED, document="aftercare_sheet")
    response = send_file(
        BytesIO(content), mimetype="application/pdf", as_attachment=False,
        download_name=f"aftercare-{item.procedure_slug}-{item.id[:8]}.pdf",
    )
    response.headers["Content-Security-Policy"] = INLINE_PDF_POLICY
    return response


@requires("view_records")
def fhir_bundle(record_id: str):
    """The record as a FHIR R4 Bundle (consentapp.records.fhir), for the health record system."""
    item = record_or_404(record_id)
    bundle = build_bundle(item, catalog.definition_for(item.definition_sha256))
    _audit(item.id, EventKind.EXPORTED, format="fhir")
    return Response(
        bundle.model_dump_json(),
        mimetype="application/fhir+json",
        headers={"Content-Disposition":
                 f'attachment; filename="consent-{item.id}.fhir.json"'},
    )
