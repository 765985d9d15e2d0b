"""The patient's copy as a person gets it: the QR code on the tablet's finish screen, read
from a screenshot like a phone's camera would, opened on a phone, downloaded once."""

import io

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from consentapp.extensions import db
from consentapp.models import ConsentRecord

from .checks import layout_problems
from .patient import TabletPatient, draw_signature_with_touch, walked_past

pytestmark = pytest.mark.browser


@pytest.fixture
def app_config(app_config):
    return {**app_config, "TRUSTED_HOSTS": ["127.0.0.1"]}  # the address the tablet uses


def read_qr_code(png: bytes) -> str:
    (found,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return found.text


@pytest.mark.renders_pdfs
def test_the_finish_screen_qr_code_downloads_the_signed_pdf_once_on_a_phone(
    app, server_url, tablet, open_device, screenshot, page_problems
):
    patient = TabletPatient(tablet, server_url)
    # The pages before the signature are the journey test's; this one signs by hand.
    journey = walked_past(tablet, server_url)
    journey.to_signature(name="Quinn Copy", dob="1980-08-08")
    tablet.goto(server_url + journey.path)
    patient.tick_statements()
    draw_signature_with_touch(tablet)
    patient.button("Sign and finish").click()
    expect(tablet.get_by_role("heading", name="Get your own copy")).to_be_visible()
    screenshot(tablet, "patient-copy/01-finish-screen-with-qr")

    code = tablet.get_by_role("img", name="QR code to download your signed form")
    url = read_qr_code(code.screenshot())
    assert url.startswith(server_url + "/copy/")
    token = url.removeprefix(server_url + "/copy/")
    assert len(token) == 43 and "Quinn" not in url

    phone = open_device("phone")
    phone.goto(url)
    expect(phone.get_by_role("heading", name="Your signed consent form")).to_be_visible()
    assert "Quinn" not in phone.content() and "1980" not in phone.content()
    expect(phone.get_by_text("Riverside Skin Clinic")).to_be_visible()
    screenshot(phone, "patient-copy/02-phone-landing")
    assert layout_problems(phone) == []  # axe, touch targets, text size on the phone
    with phone.expect_download() as downloading:
        phone.get_by_role("button", name="Download my PDF").click()
    downloaded = downloading.value
    with open(downloaded.path(), "rb") as file:
        content = file.read()
    with app.app_context():
        record = db.session.scalars(select(ConsentRecord)).one()
        assert content == record.latest_pdf.content
        assert "patient_copy_downloaded" in [event.kind for event in record.events]

    page_problems.expect("status of 410")  # the used link's page answers 410 Gone
    phone.goto(url)
    expect(phone.get_by_text("This link has already been used")).to_be_visible()
    assert phone.get_by_role("button", name="Download my PDF").count() == 0
    screenshot(phone, "patient-copy/03-phone-link-used")
    assert layout_problems(phone) == []
