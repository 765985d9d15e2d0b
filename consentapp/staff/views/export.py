"""The dashboard's current search as CSV, for administrators and clinicians.

Every page of the search, not only the one on screen, streamed row by row. Cells that a
spreadsheet would run as a formula are neutralised (staff/csv_stream.py, as the audit log). Each
export is one RecordListExport row (who, when, the search, how many records), shown on the
audit page: one audit entry per export rather than an event on each of thousands of records.
"""

from collections.abc import Iterator
from dataclasses import asdict
from datetime import date

from flask import Response, abort, current_app, request, stream_with_context
from flask_login import current_user
from sqlalchemy import Select, insert

from ...clinic_time import clinic_time
from ...extensions import db
from ...models import RecordListExport, utcnow
from ...records.search import RecordFilters, all_matching, count_matching
from .. import saved_search
from ..access import requires
from ..csv_stream import stream_csv
from ..labels import OUTCOME_LABELS, STATUS_LABELS
from .dashboard import current_search

CSV_COLUMNS = ("record_id", "patient_name", "date_of_birth", "procedure", "completed_at",
               "status", "outcome", "language")


def _rows(query: Select) -> Iterator[list]:
    for record, status in db.session.execute(query.execution_options(yield_per=500)):
        yield [
            record.id,
            record.patient_name,
            record.patient_dob.isoformat(),
            record.procedure_title,
            clinic_time(record.completed_at, with_seconds=True),
            STATUS_LABELS.get(status, status),
            OUTCOME_LABELS.get(record.outcome, record.outcome),
            record.language,
        ]


def _as_json(filters: RecordFilters) -> dict:
    return {key: value.isoformat() if isinstance(value, date) else value
            for key, value in asdict(filters).items() if value not in ("", None)}


@requires("export_records")
def records_csv():
    # Only a saved search (its id) says what to export: filters in the address would put
    # names in it, and an export of everything by mistake is worse than a clear refusal.
    if any(name in request.args for name in saved_search.PATIENT_FIELDS):
        abort(400, "Search on the dashboard first, then download that search as CSV.")
    found = current_search()
    if found.expired or not found.form.validate():
        abort(404)
    filters = found.filters
    tz_name = current_app.config["CLINIC_TIMEZONE"]
    exported = {
        "actor": current_user.email,
        "created_at": utcnow(),
        "search": _as_json(filters),
        "record_count": count_matching(filters, tz_name),
        "address": request.remote_addr or "",
    }
    # Committed on a connection of its own before the first row is sent, so the audit entry
    # stands however the download ends, and the request's session (its signed-in user) is
    # left as it was for the rows that stream after this view returns.
    with db.engine.begin() as connection:
        connection.execute(insert(RecordListExport).values(**exported))
    return Response(
        stream_with_context(stream_csv(CSV_COLUMNS, _rows(all_matching(filters, tz_name)))),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="consent-records.csv"'},
    )
