"""Care goes home (issue 17): before each visit, aftercare and when to call, with the clinic's
phone numbers, on the tablet's care page, the finish screen, the phone's copy page, the PDF
(Letter unless the clinic prints A4) and the one-page aftercare sheet staff print; and the US
clinic conventions: dates typed month first in English, American Sign Language."""

import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from consentapp import create_app
from consentapp.extensions import db
from consentapp.models import ConsentRecord, RecordEvent
from consentapp.procedures import catalog
from consentapp.records.document import rebuild_document
from consentapp.records.preview import preview_aftercare_pdf
from consentapp.records.render import render_pdf
from consentapp.settings import ConfigurationError

from .conftest import _test_config, csrf_token
from .journey import SHIPPED_DEFINITION, PatientJourney
from .pdf import pdf_text
from .test_patient_copy import _path, qr_text

PHONE, AFTER_HOURS = "(555) 010-0100", "555-0199 ext. 2"
LETTER, A4 = (612, 792), (595, 842)  # points


@pytest.fixture
def app_config(app_config):
    # The QR code needs an address a phone can trust (patient/copy_link.py).
    return {**app_config, "CLINIC_PHONE": PHONE, "CLINIC_AFTER_HOURS_PHONE": AFTER_HOURS,
            "TRUSTED_HOSTS": ["localhost"]}


def _pages(content: bytes) -> list:
    return PdfReader(io.BytesIO(content)).pages


def _size(page) -> tuple[int, int]:
    return round(float(page.mediabox.width)), round(float(page.mediabox.height))


def _record() -> ConsentRecord:
    return db.session.scalars(select(ConsentRecord)).one()


def test_the_care_pages_come_after_the_alternatives_with_the_numbers(journey):
    journey.start()
    journey.about()
    journey.concerns()
    journey.screening()
    for step in ("outcome", "expect", "benefits"):
        journey.continue_(step)
    journey.risks()
    page = journey.continue_("alternatives")
    assert journey.path == "/step/before_visit" and "Before each visit" in page.text
    page = journey.continue_("before_visit")
    assert journey.path == "/step/aftercare"
    assert "After your treatment" in page.text and "When to call us" in page.text
    assert f"Call the clinic at {PHONE}." in page.text
    assert f"After hours, call {AFTER_HOURS}." in page.text
    journey.continue_("aftercare")
    assert journey.path == "/step/understanding"


@pytest.mark.renders_pdfs
def test_the_finish_screen_copy_page_and_pdf_carry_the_care_and_the_numbers(app, journey):
    journey.complete()
    finish = journey.page.text
    assert "When to call us" in finish and f"Call the clinic at {PHONE}." in finish
    assert "After your treatment" in finish and "Do not wear makeup for 24 hours." in finish
    url = qr_text(finish)

    phone = app.test_client()
    landing = phone.get(_path(url)).text
    assert '<a href="tel:5550100100">(555) 010-0100</a>' in landing  # one tap calls
    assert '<a href="tel:5550199;ext=2">555-0199 ext. 2</a>' in landing
    assert "After your treatment" in landing and "Before each visit" in landing
    phone.post(_path(url), data={"csrf_token": csrf_token(landing)})
    used = phone.get(_path(url)).text  # an old link says only that it was used
    assert "already been used" in used and "When to call us" not in used and PHONE not in used

    with app.app_context():
        record = _record()
        assert record.clinic_contact == {"clinic_phone": PHONE, "after_hours_phone": AFTER_HOURS}
        content = record.latest_pdf.content
    text = pdf_text(content)
    assert {_size(page) for page in _pages(content)} == {LETTER}
    for heading in ("Before each visit (explained to the patient)",
                    "After your treatment (explained to the patient)", "When to call us"):
        assert heading in text, heading
    assert f"Call the clinic at {PHONE}." in text and f"After hours, call {AFTER_HOURS}." in text
    assert "call 911" in text


@pytest.mark.renders_pdfs
def test_a_pdf_made_again_says_the_numbers_the_patient_was_told(app, journey):
    journey.complete()
    # Later the clinic changes its number and its paper.
    app.config.update(CLINIC_PHONE="(555) 999-9999", PDF_PAGE_SIZE="a4")
    with app.app_context():
        record = _record()
        rebuilt = render_pdf(rebuild_document(record, 1))
        assert db.session.scalars(select(RecordEvent.details).where(
            RecordEvent.kind == "pdf_rendered")).one()["page_size"] == "letter"
    text = pdf_text(rebuilt)
    assert f"Call the clinic at {PHONE}." in text and "999-9999" not in text
    assert {_size(page) for page in _pages(rebuilt)} == {LETTER}  # the paper it was made on


@pytest.mark.renders_pdfs
def test_without_a_number_the_patient_is_told_to_ask_the_staff(app, journey):
    app.config.update(CLINIC_PHONE=None, CLINIC_AFTER_HOURS_PHONE=None)
    journey.complete()
    assert "Ask the staff for the clinic&#39;s phone number before you leave." in journey.page.text
    assert "After hours" not in journey.page.text
    with app.app_context():
        text = pdf_text(_record().latest_pdf.content)
    assert "Ask the staff for the clinic's phone number before you leave." in text


def test_staff_print_a_one_page_aftercare_sheet_in_the_patients_language(app, journey, staff):
    app.config["PDF_RENDER_MODE"] = "worker"
    journey.complete(name="María Ejemplo", language="es")
    with app.app_context():
        record_id = _record().id
    desk = staff("frontdesk")
    page = desk.get(f"/staff/records/{record_id}").text
    assert "Print the aftercare sheet (Spanish)" in page

    response = desk.get(f"/staff/records/{record_id}/aftercare")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "inline" in response.headers["Content-Disposition"]
    pages = _pages(response.data)
    assert len(pages) == 1 and _size(pages[0]) == LETTER
    text = pdf_text(response.data)
    assert "Después del tratamiento" in text and "María Ejemplo" in text
    assert f"Llame a la clínica al {PHONE}." in text and "Cuándo llamarnos" in text
    assert "No es su formulario de consentimiento." in text
    with app.app_context():
        printed = db.session.scalars(select(RecordEvent).where(
            RecordEvent.kind == "printed")).one()
        assert printed.details["document"] == "aftercare_sheet"


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("page_size", ["letter", "a4"])
def test_the_shipped_aftercare_sheet_fits_on_one_page(app, language, page_size):
    app.config["PDF_PAGE_SIZE"] = page_size
    with app.app_context():
        catalog.snapshot(catalog.available()[("microneedling", language)])
        pages = _pages(preview_aftercare_pdf("microneedling", language))
    assert len(pages) == 1 and _size(pages[0]) == {"letter": LETTER, "a4": A4}[page_size]


def test_no_aftercare_sheet_for_a_record_that_was_not_signed(app, journey, staff):
    app.config["PDF_RENDER_MODE"] = "worker"
    journey.start()
    journey.about()
    journey.concerns()
    journey.screening("sunburn")
    with app.app_context():
        record_id = _record().id
    clinician = staff("clinician")
    assert "Print the aftercare sheet" not in clinician.get(f"/staff/records/{record_id}").text
    assert clinician.get(f"/staff/records/{record_id}/aftercare").status_code == 404


@pytest.mark.parametrize(
    ("value", "ok"),
    [("(555) 010-0100", True), ("+1 555 010 0100", True), ("555.010.0100 ext. 12", True),
     ("call us", False), ("555-0100<script>", False), ("{clinic_phone}", False)],
)
def test_the_phone_settings_take_only_a_number(database_url, value, ok):
    config = _test_config(database_url, CLINIC_PHONE=value)
    if ok:
        assert create_app(config).config["CLINIC_PHONE"] == value
    else:
        with pytest.raises(ConfigurationError, match="CLINIC_PHONE .* is not a phone number"):
            create_app(config)


def test_the_page_size_setting_takes_letter_or_a4(database_url):
    assert create_app(_test_config(database_url)).config["PDF_PAGE_SIZE"] == "letter"
    assert create_app(_test_config(database_url, PDF_PAGE_SIZE="A4")).config[
        "PDF_PAGE_SIZE"] == "a4"
    with pytest.raises(ConfigurationError, match="PDF_PAGE_SIZE must be letter or a4"):
        create_app(_test_config(database_url, PDF_PAGE_SIZE="legal"))


def _box_order(html: str) -> list[str]:
    return re.findall(r'name="date_of_birth-(day|month|year)"', html)


def test_dates_are_typed_in_the_order_the_language_writes_them(app, journey):
    page = journey.start()
    assert _box_order(page.text) == ["month", "day", "year"]  # US English
    assert "For example: 3 25 1970." in page.text
    # The first box carries the field's id, which the error summary links to.
    assert re.search(r'id="date_of_birth" name="date_of_birth-month"', page.text)
    page = journey.about(dob="1971-04-31")
    assert "Please check the date. For example: 3 25 1970." in page.text

    spanish = PatientJourney(app.test_client())
    page = spanish.start(language="es")
    assert _box_order(page.text) == ["day", "month", "year"]
    assert "Por ejemplo: 25 3 1970." in page.text


def test_the_interpreter_example_is_american_sign_language(journey):
    journey.start()
    journey.about()
    journey.concerns()
    journey.screening()
    for step in ("outcome", "expect", "benefits"):
        journey.continue_(step)
    journey.risks()
    journey.after_alternatives()
    page = journey.get("/step/signer")
    assert "For example: Spanish, or American Sign Language." in page.text
    assert "British" not in page.text


def test_a_definition_without_care_sections_has_no_care_step(app, tmp_path, journey):
    """A clinic's own procedure still in format 1 (like every 1.x snapshot): no care pages."""
    import shutil
    from pathlib import Path

    forms = tmp_path / "forms"
    shutil.copytree(Path(__file__).parent / "fixtures" / "forms-1.1.0", forms)
    app.config["FORMS_DIR"] = forms
    page = journey.start()
    assert journey.path == "/step/about" and "Step 1 of 14" in page.text
    for step in ("before_visit", "aftercare"):
        assert journey.client.get(f"/step/{step}").status_code == 404
    assert SHIPPED_DEFINITION.aftercare.title not in page.text
