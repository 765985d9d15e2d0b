"""Records leaving the app: the dashboard's search as CSV (formula-safe, every page, one audit
entry per export), a record's FHIR R4 Bundle, and the PDF opened for printing."""

import csv
import io
import json
from datetime import datetime

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import func, select

from consentapp.extensions import db
from consentapp.models import ConsentRecord, RecordEvent, RecordListExport

from .pdf import pdf_text
from .staff_search import dashboard_search, search_address

FORMULA_NAMES = (
    "=cmd|' /C calc'!A0",
    "+SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
)


def _rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_the_csv_holds_every_page_of_the_current_search(app, staff, make_record):
    app.config["STAFF_PAGE_SIZE"] = 2
    for n in range(5):
        make_record(f"Smith Number{n}", "1970-01-0" + str(n + 1),
                    at=datetime(2026, 3, n + 1, 10, 0))
    make_record("Jones Other", "1980-02-02", "diabetes", at=datetime(2026, 3, 9, 10, 0))
    clinician = staff("clinician")
    dashboard = dashboard_search(clinician, q="smith", sort="oldest")
    assert "page 1 of 3" in dashboard.text
    assert "Download these 5 records as CSV (all pages)" in dashboard.text
    link = f"/staff/records.csv?{search_address(dashboard.text)}"
    assert f'href="{link}"' in dashboard.text  # the search's id, not what was typed

    response = clinician.get(link)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _rows(response)
    assert [row["patient_name"] for row in rows] == [f"Smith Number{n}" for n in range(5)]
    assert list(rows[0]) == ["record_id", "patient_name", "date_of_birth", "procedure",
                             "completed_at", "status", "outcome", "language"]
    assert rows[0]["date_of_birth"] == "1970-01-01"
    assert rows[0]["procedure"] == "Microneedling"
    assert rows[0]["completed_at"] == "2026-03-01 10:00:00 UTC"
    assert (rows[0]["status"], rows[0]["outcome"], rows[0]["language"]) == (
        "Signed", "Eligible", "en")

    status = _rows(clinician.get("/staff/records.csv?status=needs_review"))
    assert [row["patient_name"] for row in status] == ["Jones Other"]
    assert status[0]["status"] == "Needs review"


def test_names_that_look_like_formulas_are_neutralised(app, staff, make_record):
    for name in FORMULA_NAMES:
        make_record(name)
    rows = _rows(staff("admin").get("/staff/records.csv"))
    exported = sorted(row["patient_name"] for row in rows)
    assert exported == sorted("'" + name for name in FORMULA_NAMES)
    for row in rows:
        assert not any(value.startswith(("=", "+", "-", "@")) for value in row.values())


def test_each_export_is_one_audit_entry_shown_on_the_audit_page(app, staff, make_record):
    for n in range(3):
        make_record(f"Audit Person{n}")
    admin = staff("admin")
    found = dashboard_search(admin, q="audit", procedure="microneedling")
    assert admin.get(f"/staff/records.csv?{search_address(found.text)}").status_code == 200
    with app.app_context():
        export = db.session.scalars(select(RecordListExport)).one()
        assert export.actor == "admin@example.org"
        assert export.record_count == 3
        assert export.search == {"name": "audit", "procedure": "microneedling",
                                 "sort": "newest"}
        # One entry for the export, not an event on each record.
        assert db.session.scalar(select(func.count()).select_from(RecordEvent).where(
            RecordEvent.kind == "exported")) == 0
    page = admin.get("/staff/admin/audit")
    assert "Record lists exported as CSV" in page.text
    assert "name: audit; procedure: microneedling" in page.text


def test_the_csv_takes_no_filters_from_its_address(staff, make_record):
    make_record("Smith Number")
    clinician = staff("clinician")
    refused = clinician.get("/staff/records.csv?q=smith")
    assert refused.status_code == 400
    assert "Search on the dashboard first" in refused.text
    assert clinician.get("/staff/records.csv?search=not-a-search-of-yours").status_code == 404


def test_only_administrators_and_clinicians_may_export_the_list(app, staff, make_record):
    make_record()
    frontdesk = staff("frontdesk")
    assert "as CSV" not in frontdesk.get("/staff/").text
    assert frontdesk.get("/staff/records.csv").status_code == 403
    assert staff("clinician").get("/staff/records.csv").status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RecordListExport)) == 1


def test_the_fhir_endpoint_returns_a_valid_bundle_and_is_audited(app, journey, staff):
    journey.complete(name="Fhir Endpoint", dob="1975-05-05")
    frontdesk = staff("frontdesk")
    with app.app_context():
        record_id = db.session.scalars(select(ConsentRecord.id)).one()
    page = frontdesk.get(f"/staff/records/{record_id}")
    assert f"/staff/records/{record_id}/fhir" in page.text
    response = frontdesk.get(f"/staff/records/{record_id}/fhir")
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    bundle = Bundle.model_validate_json(response.data)  # validates as FHIR R4(B)
    assert bundle.type == "collection"
    kinds = [entry.resource.get_resource_type() for entry in bundle.entry]
    assert kinds == ["Patient", "Consent", "QuestionnaireResponse", "Questionnaire"]
    patient = json.loads(response.data)["entry"][0]["resource"]
    assert patient["name"][0]["text"] == "Fhir Endpoint"
    with app.app_context():
        event = db.session.scalars(select(RecordEvent).where(
            RecordEvent.kind == "exported")).one()
        assert event.actor == "frontdesk@example.org" and event.details["format"] == "fhir"
    assert frontdesk.get("/staff/records/no-such-record/fhir").status_code == 404


@pytest.mark.renders_pdfs
def test_print_opens_the_latest_pdf_inline_and_is_audited(app, journey, staff):
    journey.complete(name="Print Patient")
    frontdesk = staff("frontdesk")
    with app.app_context():
        record = db.session.scalars(select(ConsentRecord)).one()
        record_id, content = record.id, record.latest_pdf.content
    page = frontdesk.get(f"/staff/records/{record_id}")
    assert "Print the latest version" in page.text
    response = frontdesk.get(f"/staff/records/{record_id}/print")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("inline")
    assert response.data == content
    assert "object-src 'self'" in response.headers["Content-Security-Policy"]
    assert "Print Patient" in pdf_text(response.data)
    with app.app_context():
        event = db.session.scalars(select(RecordEvent).where(
            RecordEvent.kind == "printed")).one()
        assert event.details["version"] == 1 and event.actor == "frontdesk@example.org"
