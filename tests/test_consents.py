"""The consents besides the procedure's own: signing on screen (the electronic records
disclosure) and the two optional photo consents, withdrawn later by staff as events."""

import hashlib
import json

import pytest
import textstat
from sqlalchemy import func, select

from consentapp.extensions import db
from consentapp.models import ConsentRecord, RecordEvent, RecordStatus

from .conftest import csrf_token
from .pdf import pdf_text
from .test_plain_language import MAX_GRADE, _sentences

DISCLOSURE_POINTS = (
    "Signing on this screen counts the same as signing on paper.",
    "You can ask the staff for a paper copy of this form at any time.",
    "You can stop getting your records on a screen. Just tell the staff.",
    "To get a copy of your signed form, scan the code on the last screen with your phone.",
    "Your copy is a PDF file. Most phones and computers can open it.",
)
AGREEMENT = "I agree to sign and receive my records electronically."


def _only_record() -> ConsentRecord:
    return db.session.scalars(select(ConsentRecord)).one()


def test_the_disclosure_comes_just_before_the_signature_and_must_be_agreed_to(app, journey):
    journey.start()
    journey.about()
    journey.concerns()
    journey.screening()
    for step in ("outcome", "expect", "benefits"):
        journey.continue_(step)
    journey.risks()
    journey.continue_("alternatives")
    journey.care()
    journey.understanding()
    journey.signer()
    journey.photos()
    page = journey.continue_("review")
    assert journey.path == "/step/esign"
    assert "Step 17 of 18" in page.text
    for point in DISCLOSURE_POINTS:
        assert point in page.text
    assert journey.get("/step/sign").request.path == "/step/esign"  # no way round it

    page = journey.esign(agree=False)
    assert journey.path == "/step/esign"
    assert "Please tick the box to agree to sign on this screen" in page.text
    assert 'href="#agree"' in page.text  # the error summary links to the box
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ConsentRecord)) == 0

    journey.esign()
    assert journey.path == "/step/sign"
    journey.sign()
    assert journey.path == "/finished"


@pytest.mark.renders_pdfs
def test_the_agreement_is_stored_word_for_word_and_printed_in_the_pdf(app, journey):
    journey.complete()
    with app.app_context():
        record = _only_record()
        agreement = record.esign_agreement
        pdf = pdf_text(record.latest_pdf.content)
        embedded = json.loads(_embedded_json(record.latest_pdf.content))
    assert agreement["version"] == "1" and agreement["language"] == "en"
    assert agreement["text"][0] == "Signing on this screen"
    assert agreement["text"][-1] == AGREEMENT
    assert any(line.startswith(DISCLOSURE_POINTS[2]) for line in agreement["text"])
    canonical = json.dumps(agreement["text"], sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False).encode()
    assert agreement["sha256"] == hashlib.sha256(canonical).hexdigest()
    assert embedded["esign_agreement"] == agreement

    assert "Agreement to sign electronically" in pdf
    assert f"Agreed: {AGREEMENT}" in pdf
    assert agreement["sha256"] in pdf.replace(" ", "")
    assert DISCLOSURE_POINTS[0] in pdf


def _embedded_json(content: bytes) -> bytes:
    from io import BytesIO

    from pypdf import PdfReader

    attachments = PdfReader(BytesIO(content)).attachments
    (data,) = attachments["consent-record.json"]
    return data


def test_the_disclosure_and_the_photo_page_read_at_grade_8_or_below(app):
    from consentapp.procedures import consents

    with app.test_request_context():
        disclosure = _sentences(
            str(consents.ESIGN_TITLE), str(consents.ESIGN_INTRO),
            *(str(point) for point in consents.ESIGN_POINTS), str(consents.ESIGN_AGREEMENT),
        )
        photos = _sentences(
            str(consents.PHOTOS_TITLE), str(consents.PHOTOS_INTRO),
            *(str(text) for text in consents.PHOTO_CONSENTS.values()),
            str(consents.PHOTOS_LATER),
        )
    for text in (disclosure, photos):
        assert textstat.flesch_kincaid_grade(text) <= MAX_GRADE, text


@pytest.mark.renders_pdfs
def test_photo_consents_are_optional_and_separate(app, journey):
    journey.to_signature()
    page = journey.get("/step/photos")
    assert "before-and-after photos" in page.text and "to show its work" in page.text
    assert "checked" not in page.text  # nothing is chosen for the patient
    page = journey.photos(clinical=True)
    assert journey.path == "/step/review"  # a change: the review again
    assert "Change: photos" in page.text
    journey.continue_("review")
    assert journey.path == "/step/sign"  # still agreed to sign on screen
    journey.sign()
    with app.app_context():
        record = _only_record()
        assert (record.photo_consent["clinical"], record.photo_consent["marketing"]) == (
            True, False)
        assert record.photo_consent["text"]["marketing"].startswith(
            "I agree that the clinic may use my photos")
        text = pdf_text(record.latest_pdf.content)
    assert "Photo consents" in text
    assert "Clinical before-and-after photos" in text
    assert "Use of photos in marketing" in text
    clinical = text.index("Clinical before-and-after photos")
    marketing = text.index("Use of photos in marketing")
    assert "Given" in text[clinical:marketing] and "Not given" not in text[clinical:marketing]
    assert "Not given" in text[marketing:]


def test_saying_no_to_both_photo_consents_is_recorded_as_no(app, journey):
    journey.complete()
    with app.app_context():
        record = _only_record()
        assert (record.photo_consent["clinical"], record.photo_consent["marketing"]) == (
            False, False)


def _signed_with_both_photo_consents(app, journey) -> str:
    journey.to_signature()
    journey.get("/step/photos")
    journey.photos(clinical=True, marketing=True)
    journey.continue_("review")
    journey.sign()
    with app.app_context():
        return _only_record().id


def _withdraw(client, record_id: str, which: str):
    page = client.get(f"/staff/records/{record_id}")
    return client.post(
        f"/staff/records/{record_id}/photo-consent/withdraw",
        data={"photo_consent": which, "csrf_token": csrf_token(page.text)},
    )


@pytest.mark.renders_pdfs
def test_staff_withdraw_one_photo_consent_as_an_event_with_a_new_pdf(app, journey, staff):
    record_id = _signed_with_both_photo_consents(app, journey)
    frontdesk = staff("frontdesk", full_name="Fran Desk")
    page = frontdesk.get(f"/staff/records/{record_id}")
    assert page.text.count("Record that the patient withdrew this") == 2
    assert "Agreed to sign and receive records electronically at" in page.text
    assert "(disclosure version 1)" in page.text

    response = _withdraw(frontdesk, record_id, "marketing")
    assert response.status_code == 302
    page = frontdesk.get(f"/staff/records/{record_id}")
    assert "The withdrawal of the photo consent is recorded." in page.text
    assert page.text.count("Record that the patient withdrew this") == 1  # clinical only
    assert "Withdrawn" in page.text and "recorded by" in page.text

    with app.app_context():
        record = db.session.get(ConsentRecord, record_id)
        event = db.session.scalars(select(RecordEvent).where(
            RecordEvent.kind == "photo_consent_withdrawn")).one()
        assert event.actor == "frontdesk@example.org"
        assert event.details["photo_consent"] == "marketing"
        assert record.photo_consent["marketing"] is True  # the signed record is untouched
        assert record.listing.status == RecordStatus.SIGNED  # treatment consent stands
        assert [pdf.version for pdf in record.pdfs] == [1, 2]
        first, second = (pdf_text(pdf.content) for pdf in record.pdfs)
    assert "Withdrawn" not in first[first.index("Photo consents"):]
    assert "Photo consent withdrawn" in second
    marketing = second.index("Use of photos in marketing")
    assert "Withdrawn" in second[marketing:marketing + 200]
    assert "Fran Desk" in second


def test_a_photo_consent_cannot_be_withdrawn_twice_or_when_never_given(app, journey, staff):
    journey.complete()  # both photo consents refused
    with app.app_context():
        record_id = _only_record().id
    clinician = staff("clinician")
    response = _withdraw(clinician, record_id, "clinical")
    assert response.status_code == 409
    assert "That photo consent is not in force" in response.text

    response = _withdraw(clinician, record_id, "selfies")
    assert response.status_code == 409
    assert "Please choose which photo consent" in response.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RecordEvent).where(
            RecordEvent.kind == "photo_consent_withdrawn")) == 0


def test_an_administrator_cannot_withdraw_a_photo_consent(app, journey, staff):
    record_id = _signed_with_both_photo_consents(app, journey)
    admin = staff("admin")
    assert "Record that the patient withdrew this" not in admin.get(
        f"/staff/records/{record_id}").text
    response = _withdraw(admin, record_id, "clinical")
    assert response.status_code == 403
