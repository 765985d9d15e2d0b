"""The record page: clinician review, countersignature and withdrawal as events, each making
a new PDF version while every earlier version stays as it was; view and download events."""

import hashlib

import pytest
from sqlalchemy import select

from consentapp.extensions import db
from consentapp.models import ConsentRecord, RecordEvent, RecordListing, RecordStatus
from consentapp.records.jobs import process_pending

from .conftest import csrf_token
from .journey import drawn_signature
from .pdf import pdf_text


@pytest.fixture
def signed(app, make_record, built_once):
    """A signed record that needs review (diabetes), with its first PDF."""

    def sign_and_seal():
        record_id = make_record("Lucía Fernández", "1975-05-05", "diabetes")
        with app.app_context():
            process_pending()
        return record_id

    return built_once(sign_and_seal)


def _post(client, record_id, action, data):
    page = client.get(f"/staff/records/{record_id}")
    return client.post(f"/staff/records/{record_id}/{action}",
                       data={**data, "csrf_token": csrf_token(page.text)})


def _events(app, record_id, kind):
    with app.app_context():
        return db.session.scalars(
            select(RecordEvent).where(RecordEvent.record_id == record_id, RecordEvent.kind == kind)
        ).all()


def _status(app, record_id):
    with app.app_context():
        return db.session.get(RecordListing, record_id).status


@pytest.mark.renders_pdfs
def test_a_clinician_approves_and_a_new_pdf_version_says_so(app, staff, signed):
    client = staff("clinician", "dr.ruiz@example.org", full_name="Dr Ana Ruiz")
    first = client.get(f"/staff/records/{signed}/pdf/1").data
    assert _status(app, signed) == RecordStatus.NEEDS_REVIEW

    response = _post(client, signed, "review",
                     {"decision": "approved", "note": "Diabetes well controlled; HbA1c fine."})
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert "Approved for treatment. A new PDF version" in page.text
    assert "Download PDF (version 2)" in page.text and "Download PDF (version 1)" in page.text

    [event] = _events(app, signed, "approved")
    assert event.actor == "dr.ruiz@example.org"
    assert event.details["clinician_name"] == "Dr Ana Ruiz"
    assert event.details["note"] == "Diabetes well controlled; HbA1c fine."
    assert event.details["meaning"].startswith("Approved for treatment")
    assert event.created_at is not None
    assert _status(app, signed) == RecordStatus.SIGNED

    second = client.get(f"/staff/records/{signed}/pdf/2")
    text = pdf_text(second.data)
    assert "Staff decisions after signing" in text
    assert "Approved for treatment by a clinician" in text
    assert "Dr Ana Ruiz (dr.ruiz@example.org, clinician)" in text
    assert "Diabetes well controlled; HbA1c fine." in text
    assert "the patient may be treated" in text
    assert second.headers["Content-Disposition"].endswith('-v2.pdf')

    again = client.get(f"/staff/records/{signed}/pdf/1").data
    assert again == first  # the signed PDF is never changed
    assert "Staff decisions" not in pdf_text(again)
    with app.app_context():
        record = db.session.get(ConsentRecord, signed)
        assert [pdf.version for pdf in record.pdfs] == [1, 2]
        assert record.pdfs[0].sha256 == hashlib.sha256(first).hexdigest()


@pytest.mark.renders_pdfs
def test_a_clinician_declines_with_a_note(app, staff, signed):
    client = staff("clinician")
    _post(client, signed, "review", {"decision": "declined", "note": "Pregnancy: postpone."})
    assert _status(app, signed) == RecordStatus.DECLINED
    page = client.get("/staff/", query_string={"status": "declined"}).text
    assert "Lucía Fernández" in page
    with app.app_context():
        pdf = db.session.get(ConsentRecord, signed).latest_pdf
    text = pdf_text(pdf.content)
    assert "Declined by a clinician: do not treat" in text and "Pregnancy: postpone." in text


def test_a_review_without_a_decision_or_note_is_explained_and_keeps_the_typing(app, staff, signed):
    client = staff("clinician")
    page = _post(client, signed, "review", {"note": "Half-written thought"})
    assert page.status_code == 200
    assert "Please choose approve or decline." in page.text
    assert "Half-written thought</textarea>" in page.text
    page = _post(client, signed, "review", {"decision": "approved", "note": "  "})
    assert "Please write a short note" in page.text
    assert _events(app, signed, "approved") == []


@pytest.mark.renders_pdfs
def test_a_clinician_countersigns_with_typed_name_and_drawing(app, staff, signed):
    client = staff("clinician", full_name="Dr Ana Ruiz")
    page = client.get(f"/staff/records/{signed}").text
    assert "I explained this procedure and answered the patient&#39;s questions" in page
    assert 'value="Dr Ana Ruiz"' in page  # the account's name, ready to confirm
    assert '<script src="/static/js/signature.js"></script>' in page

    response = _post(client, signed, "countersign",
                     {"clinician_name": "Ana Ruiz MD", "signature": drawn_signature()})
    assert response.status_code == 302
    [event] = _events(app, signed, "countersigned")
    assert event.details["clinician_name"] == "Ana Ruiz MD"
    assert event.details["statement"] == (
        "I explained this procedure and answered the patient's questions."
    )
    assert len(event.details["signature"]["strokes"][0]) == 50
    assert _status(app, signed) == RecordStatus.NEEDS_REVIEW  # countersigning is not a review
    with app.app_context():
        pdf = db.session.get(ConsentRecord, signed).latest_pdf
        assert pdf.version == 2
    text = pdf_text(pdf.content)
    assert "Countersigned by a clinician" in text and "Ana Ruiz MD" in text
    assert "I explained this procedure and answered the patient's questions." in text

    page = client.get(f"/staff/records/{signed}").text
    assert "Ana Ruiz MD</strong> (clinician@example.org) countersigned on" in page
    assert 'id="signature-canvas"' not in page  # the form is gone once signed


def test_countersigning_twice_is_refused_with_a_message(app, staff, signed):
    client = staff("clinician")
    token = csrf_token(client.get(f"/staff/records/{signed}").text)
    url = f"/staff/records/{signed}/countersign"
    assert client.post(url, data={"clinician_name": "A", "csrf_token": token}).status_code == 302
    second = client.post(url, data={"clinician_name": "A", "csrf_token": token})
    assert second.status_code == 409
    assert "This record is already countersigned." in second.text
    assert len(_events(app, signed, "countersigned")) == 1


def test_an_unreadable_drawing_is_explained_and_the_typed_name_kept(app, staff, signed):
    client = staff("clinician")
    page = _post(client, signed, "countersign", {"clinician_name": "Dr Kept", "signature": "{"})
    assert page.status_code == 200
    assert "We could not read the signature" in page.text and 'value="Dr Kept"' in page.text
    assert _events(app, signed, "countersigned") == []


@pytest.mark.renders_pdfs
def test_front_desk_records_a_withdrawal_and_the_record_is_closed(app, staff, signed):
    desk = staff("frontdesk", full_name="Sam Desk")
    response = _post(desk, signed, "withdraw", {"reason": "Patient phoned: changed her mind."})
    assert response.status_code == 302
    [event] = _events(app, signed, "withdrawn")
    assert event.actor == "frontdesk@example.org"
    assert event.details["recorded_by_name"] == "Sam Desk"
    assert event.details["reason"] == "Patient phoned: changed her mind."
    assert _status(app, signed) == RecordStatus.WITHDRAWN

    page = desk.get(f"/staff/records/{signed}").text
    assert "Consent withdrawn" in page and "Patient phoned: changed her mind." in page
    assert "Record the withdrawal" not in page
    with app.app_context():
        record = db.session.get(ConsentRecord, signed)
        assert [pdf.version for pdf in record.pdfs] == [1, 2]
        text = pdf_text(record.latest_pdf.content)
    assert "Consent withdrawn" in text and "Sam Desk (frontdesk@example.org, frontdesk)" in text
    assert "Patient phoned: changed her mind." in text

    # Nothing can be decided on a withdrawn record any more.
    clinician = staff("clinician")
    assert "Record my decision" not in clinician.get(f"/staff/records/{signed}").text
    refused = _post(clinician, signed, "review", {"decision": "approved", "note": "ok"})
    assert refused.status_code == 409
    assert "Consent was withdrawn, so this record cannot be reviewed." in refused.text
    assert _post(desk, signed, "withdraw", {"reason": "again"}).status_code == 409


def test_an_unsigned_record_offers_no_decisions(app, staff, make_record):
    record_id = make_record("Screened Out", "1980-01-01", "sunburn")
    client = staff("clinician")
    page = client.get(f"/staff/records/{record_id}").text
    assert "Not signed: the screening ended the journey." in page
    assert "Record my decision" not in page and "Countersign" not in page
    refused = _post(client, record_id, "review", {"decision": "approved", "note": "x"})
    assert refused.status_code == 409 and "never signed" in refused.text


def test_the_record_page_shows_answers_reasons_timeline_and_versions(app, staff, signed):
    client = staff("clinician")
    _post(client, signed, "review", {"decision": "approved", "note": "Fine."})
    page = client.get(f"/staff/records/{signed}").text
    # Each rule that held: its effect, the clinician's note, and what the patient read.
    assert '<span class="badge badge--needs_review">Needs review</span>' in page
    assert "<strong>Reports poorly controlled diabetes.</strong>" in page
    assert "“Diabetes that is not well controlled can slow healing." in page
    assert "<dt>Do you have diabetes that is not well controlled?</dt><dd>Yes</dd>" in page
    timeline = page.split('class="events"')[1]
    for label in ("Signed by the patient", "PDF version stored", "Viewed",
                  "Approved for treatment"):
        assert label in timeline


def test_every_view_and_download_is_an_audit_event(app, staff, signed):
    client = staff("frontdesk")
    client.get(f"/staff/records/{signed}")
    client.get(f"/staff/records/{signed}")
    client.get(f"/staff/records/{signed}/pdf/1")
    client.get(f"/staff/records/{signed}/pdf")
    viewed = _events(app, signed, "viewed")
    downloaded = _events(app, signed, "downloaded")
    assert len(viewed) == 2 and len(downloaded) == 2
    assert {event.actor for event in viewed + downloaded} == {"frontdesk@example.org"}
    assert [event.details["version"] for event in downloaded] == [1, 1]
    assert all(event.details["address"] == "127.0.0.1" for event in viewed)
    # A missing version is a 404 and is not counted as a download.
    assert client.get(f"/staff/records/{signed}/pdf/9").status_code == 404
    assert len(_events(app, signed, "downloaded")) == 2
