"""Records for staff: the list, one record, its PDF."""

import re
import unicodedata
from io import BytesIO

from flask import abort, render_template, request, send_file
from flask_login import current_user
from sqlalchemy import select

from .. import catalog
from ..extensions import db
from ..models import ConsentRecord, EventKind, RecordPdf
from ..records.document import OUTCOME_LABELS, answered_steps
from ..records.events import append_event
from ..records.service import pending_job_for
from . import bp

PAGE_SIZE = 50


def _audit(record_id: str, kind: str, **details) -> None:
    details = {
        "address": request.remote_addr or "",
        "user_agent": (request.user_agent.string or "")[:400],
        **details,
    }
    append_event(record_id, kind, current_user.email, details)
    db.session.commit()


@bp.get("/")
def records():
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    rows = db.session.scalars(
        select(ConsentRecord)
        .order_by(ConsentRecord.completed_at.desc(), ConsentRecord.id)
        .limit(PAGE_SIZE + 1)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return render_template(
        "staff/records.html",
        records=rows[:PAGE_SIZE],
        page=page,
        has_next=len(rows) > PAGE_SIZE,
        outcome_labels=OUTCOME_LABELS,
    )


def _record_or_404(record_id: str) -> ConsentRecord:
    record = db.session.get(ConsentRecord, record_id)
    if record is None:
        abort(404)
    return record


@bp.get("/records/<record_id>")
def record(record_id: str):
    item = _record_or_404(record_id)
    _audit(item.id, EventKind.VIEWED)
    definition = catalog.definition_for(item.definition_sha256)
    return render_template(
        "staff/record.html",
        record=item,
        answered=answered_steps(definition, item.answers),
        definition=definition,
        outcome_labels=OUTCOME_LABELS,
        pending_job=pending_job_for(item.id),
    )


def pdf_filename(item: ConsentRecord, version: int) -> str:
    """consent-<procedure>-<surname>-<date>-v<n>.pdf, with nothing but safe ASCII."""
    surname = item.patient_name.split()[-1] if item.patient_name.split() else "patient"
    # "Núñez" -> "nunez": fold accents rather than lose the letters.
    folded = unicodedata.normalize("NFKD", surname).encode("ascii", "ignore").decode()
    safe = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-") or "patient"
    day = item.completed_at.strftime("%Y%m%d")
    return f"consent-{item.procedure_slug}-{safe}-{day}-{item.id[:8]}-v{version}.pdf"


@bp.get("/records/<record_id>/pdf")
@bp.get("/records/<record_id>/pdf/<int:version>")
def download_pdf(record_id: str, version: int | None = None):
    item = _record_or_404(record_id)
    query = select(RecordPdf).where(RecordPdf.record_id == item.id)
    if version is None:
        pdf = db.session.scalar(query.order_by(RecordPdf.version.desc()).limit(1))
    else:
        pdf = db.session.scalar(query.where(RecordPdf.version == version))
    if pdf is None:
        abort(404)
    _audit(item.id, EventKind.DOWNLOADED, version=pdf.version)
    return send_file(
        BytesIO(pdf.content),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=pdf_filename(item, pdf.version),
    )
