"""The audit log for administrators: who viewed, downloaded or decided what, and when.

Read from the records' own events (every view and download is one), filtered by who, what
and when, and exported as CSV with formula-looking cells neutralised so a spreadsheet never
runs patient or staff text as a formula.
"""

import json
from collections.abc import Iterator
from datetime import timedelta

from flask import Response, abort, current_app, render_template, request, stream_with_context
from sqlalchemy import Select, select
from sqlalchemy.orm import contains_eager

from ...clinic_time import clinic_time, utc_start_of
from ...extensions import db
from ...models import Actor, ConsentRecord, RecordEvent, RecordListExport, StaffUser
from ...webforms import choices
from ..access import requires
from ..csv_stream import stream_csv
from ..forms import AuditFilterForm
from ..labels import EVENT_LABELS
from .dashboard import page_number

PAGE_SIZE = 100
RECENT_EXPORTS = 20
# Spreadsheet programs treat a cell starting with one of these as a formula (OWASP, CSV
# injection); a leading apostrophe makes it plain text.
SYSTEM_ACTORS = tuple(Actor)


def _form() -> AuditFilterForm:
    form = AuditFilterForm(formdata=request.args)
    emails = db.session.scalars(select(StaffUser.email).order_by(StaffUser.email)).all()
    form.who.choices = choices([("", "Anyone"), *((email, email) for email in emails),
                                *((actor, actor.capitalize()) for actor in SYSTEM_ACTORS)])
    form.kind.choices = choices([("", "Any event"), *EVENT_LABELS.items()])
    return form


def _query(form: AuditFilterForm) -> Select:
    query = (
        select(RecordEvent)
        .join(ConsentRecord, ConsentRecord.id == RecordEvent.record_id)
        .options(contains_eager(RecordEvent.record).load_only(
            ConsentRecord.id, ConsentRecord.patient_name
        ))
        .order_by(RecordEvent.created_at.desc(), RecordEvent.id.desc())
    )
    if not form.validate():
        return query
    tz_name = current_app.config["CLINIC_TIMEZONE"]
    if form.who.data:
        query = query.where(RecordEvent.actor == form.who.data)
    if form.kind.data:
        query = query.where(RecordEvent.kind == form.kind.data)
    if form.date_from.data:
        query = query.where(RecordEvent.created_at >= utc_start_of(form.date_from.data, tz_name))
    if form.date_to.data:
        end = utc_start_of(form.date_to.data + timedelta(days=1), tz_name)
        query = query.where(RecordEvent.created_at < end)
    return query


def summary(event: RecordEvent) -> str:
    """The event's details in one line: the PDF version, the note or reason, the address."""
    details = dict(event.details or {})
    details.pop("signature", None)  # strokes are not for reading
    parts = []
    for key in ("version", "format", "photo_consent", "meaning", "note", "reason", "statement",
                "clinician_name", "recorded_by_name", "outcome", "error", "address"):
        if details.get(key) not in (None, ""):
            parts.append(f"{key.replace('_', ' ')}: {details[key]}")
    return "; ".join(parts)


@requires("audit")
def audit_log():
    form = _form()
    page = page_number()
    events = db.session.scalars(
        _query(form).limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)
    ).all()
    kept = {key: value for key, value in request.args.items() if key != "page"}
    exports = db.session.scalars(
        select(RecordListExport).order_by(RecordListExport.id.desc()).limit(RECENT_EXPORTS)
    ).all()
    return render_template(
        "staff/admin/audit.html", form=form, events=events[:PAGE_SIZE], page=page,
        has_next=len(events) > PAGE_SIZE, kept=kept, summary=summary, exports=exports,
    )


CSV_COLUMNS = ("time_utc", "time_local", "who", "event", "record_id", "patient", "details",
               "details_json")


def _csv_rows(query: Select) -> Iterator[list]:
    for event in db.session.scalars(query.execution_options(yield_per=500)):
        details = {k: v for k, v in (event.details or {}).items() if k != "signature"}
        yield [
            event.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            clinic_time(event.created_at, with_seconds=True),
            event.actor,
            event.kind,
            event.record_id,
            event.record.patient_name,
            summary(event),
            json.dumps(details, ensure_ascii=False, sort_keys=True),
        ]


@requires("audit")
def audit_csv():
    form = _form()
    if not form.validate():  # never "everything" in place of a filter that was refused
        abort(400, "The filters are not valid: correct them on the audit page, then export.")
    query = _query(form)
    return Response(
        stream_with_context(stream_csv(CSV_COLUMNS, _csv_rows(query))),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'},
    )
