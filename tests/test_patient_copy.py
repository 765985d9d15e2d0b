"""The patient's copy: a QR code on the finish screen opens a single-use, short-lived link
that downloads the signed PDF once, carries no patient data, and is throttled."""

import hashlib
import re
from datetime import timedelta

import pytest
import zxingcpp
from PIL import Image, ImageDraw
from sqlalchemy import func, select

from consentapp import create_app
from consentapp.extensions import db
from consentapp.models import ConsentRecord, PatientCopyLink, RecordEvent, utcnow
from consentapp.records import patient_copy
from consentapp.records.jobs import process_pending
from consentapp.settings import ConfigurationError

from .conftest import _test_config, csrf_token

NAME, DOB = "Ottilie Copyright", "1966-06-16"
SCALE = 6


@pytest.fixture
def app_config(app_config):
    # The QR code needs an address a phone can trust: PUBLIC_BASE_URL, or a host Flask checks
    # every request against (tests/test_hostile_input.py: never an unchecked Host header).
    return {**app_config, "TRUSTED_HOSTS": ["localhost"]}


def qr_text(page_html: str) -> str:
    """Draw the page's inline SVG QR code as pixels and read it as a phone camera would."""
    box = re.search(r'class="patient-copy-qr"[^>]*viewBox="-4 -4 (\d+) \1"', page_html)
    assert box, "no QR code on the page"
    size = int(box.group(1))
    path = re.search(r'<path d="([^"]+)" fill="#000"/>', page_html[box.end():]).group(1)
    image = Image.new("L", (size * SCALE, size * SCALE), 255)
    draw = ImageDraw.Draw(image)
    for x, y, run in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", path):
        left, top = (int(x) + 4) * SCALE, (int(y) + 4) * SCALE
        draw.rectangle([left, top, left + int(run) * SCALE - 1, top + SCALE - 1], fill=0)
    (found,) = zxingcpp.read_barcodes(image)
    return found.text


def _signed(journey) -> str:
    """Sign as NAME; returns the URL in the finish screen's QR code."""
    journey.complete(name=NAME, dob=DOB)
    assert journey.path == "/finished"
    assert "Get your own copy" in journey.page.text
    return qr_text(journey.page.text)


def _path(url: str) -> str:
    return url.removeprefix("http://localhost")


def _download(phone, url: str, token: str | None = None):
    """Press "Download my PDF" (with the token of the page that showed it, or `token`)."""
    token = token or csrf_token(phone.get(_path(url)).text)
    return phone.post(_path(url), data={"csrf_token": token})


def test_the_finish_screen_shows_a_single_use_link_with_no_patient_data(app, journey):
    url = _signed(journey)
    match = re.fullmatch(r"http://localhost/copy/([A-Za-z0-9_-]{43})", url)
    assert match, url
    token = match.group(1)
    with app.app_context():
        link = db.session.scalars(select(PatientCopyLink)).one()
        record = db.session.scalars(select(ConsentRecord)).one()
        assert link.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
        assert link.record_id == record.id and record.id not in url
        assert link.used_at is None
        assert timedelta(minutes=14) < link.expires_at - link.created_at <= timedelta(
            minutes=15)
    assert "15 minutes" in journey.page.text
    # Shown once: the finish screen reloaded has nothing (and makes no second link).
    assert journey.get("/finished").request.path == "/"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PatientCopyLink)) == 1


@pytest.mark.renders_pdfs
def test_the_link_downloads_the_signed_pdf_once_then_says_it_was_used(app, journey):
    url = _signed(journey)
    phone = app.test_client()  # the patient's own phone: no session of the tablet's
    landing = phone.get(_path(url))
    assert landing.status_code == 200
    assert "Riverside Skin Clinic" in landing.text
    assert "Your signed consent form" in landing.text
    for private in (NAME, "Ottilie", DOB, "Microneedling"):
        assert private not in landing.text
    assert landing.headers["Cache-Control"] == "no-store"

    form_token = csrf_token(landing.text)
    response = _download(phone, url, form_token)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "Ottilie" not in response.headers["Content-Disposition"]
    with app.app_context():
        record = db.session.scalars(select(ConsentRecord)).one()
        assert response.data == record.latest_pdf.content
        event = db.session.scalars(select(RecordEvent).where(
            RecordEvent.kind == "patient_copy_downloaded")).one()
        assert event.actor == "patient" and event.details["version"] == 1
        assert db.session.scalars(select(PatientCopyLink.used_at)).one() is not None

    again = phone.get(_path(url))
    assert again.status_code == 410
    assert "This link has already been used" in again.text
    assert "Download my PDF" not in again.text
    second = _download(phone, url, form_token)  # the button pressed again, say
    assert second.status_code == 410 and second.mimetype == "text/html"
    assert "This link has already been used" in second.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RecordEvent).where(
            RecordEvent.kind == "patient_copy_downloaded")) == 1


@pytest.mark.renders_pdfs
def test_an_expired_link_says_so_and_gives_nothing(app, journey, monkeypatch):
    url = _signed(journey)
    phone = app.test_client()
    form_token = csrf_token(phone.get(_path(url)).text)  # opened in time...
    later = utcnow() + timedelta(minutes=16)
    monkeypatch.setattr(patient_copy, "utcnow", lambda: later)  # ...pressed too late
    response = _download(phone, url, form_token)
    assert response.status_code == 410 and response.mimetype == "text/html"
    assert "This link has expired" in response.text
    page = phone.get(_path(url))
    assert page.status_code == 410 and "This link has expired" in page.text
    with app.app_context():
        assert db.session.scalars(select(PatientCopyLink.used_at)).one() is None


def test_the_expiry_is_configurable(app, journey):
    app.config["PATIENT_COPY_MINUTES"] = 2
    _signed(journey)
    assert "for the next 2 minutes" in journey.page.text
    with app.app_context():
        link = db.session.scalars(select(PatientCopyLink)).one()
        assert link.expires_at - link.created_at == timedelta(minutes=2)


def test_a_copy_not_rendered_yet_is_being_prepared_and_the_link_is_kept(app, journey):
    app.config["PDF_RENDER_MODE"] = "worker"  # nothing renders until the worker runs
    url = _signed(journey)
    phone = app.test_client()
    page = phone.get(_path(url))
    assert page.status_code == 200
    assert "Your copy is being prepared. This page will show it in a few seconds." in page.text
    assert "Download my PDF" not in page.text
    # The page looks again by itself, without a script, until the PDF is there.
    assert '<meta http-equiv="refresh" content="3">' in page.text

    # A button pressed on a page opened a moment earlier (any page of the phone's session).
    early = _download(phone, url, csrf_token(phone.get("/").text))
    assert early.status_code == 200 and "being prepared" in early.text
    with app.app_context():
        assert db.session.scalars(select(PatientCopyLink.used_at)).one() is None
        assert process_pending() == 1
    ready = phone.get(_path(url))
    assert "Download my PDF" in ready.text and 'http-equiv="refresh"' not in ready.text
    response = _download(phone, url)
    assert response.status_code == 200 and response.data.startswith(b"%PDF")


def test_an_unknown_or_made_up_link_is_a_friendly_404(client):
    for token in ("not-a-real-token", "x" * 500):
        page = client.get(f"/copy/{token}")
        assert page.status_code == 404
        assert "This link does not work" in page.text


def test_the_copy_pages_are_throttled_per_address(app, client):
    app.config["PATIENT_COPY_LIMIT"] = "10 per minute"
    statuses = [client.get(f"/copy/guess-{n}").status_code for n in range(11)]
    assert statuses[:10] == [404] * 10
    assert statuses[10] == 429
    other = app.test_client()
    assert other.get("/copy/guess-x", environ_base={"REMOTE_ADDR": "10.9.8.7"}).status_code == 404


def test_a_screened_out_patient_gets_no_copy_link(app, journey):
    journey.start()
    journey.about()
    journey.concerns()
    page = journey.screening("sunburn")
    assert "Get your own copy" not in page.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PatientCopyLink)) == 0


def test_hide_the_code_clears_the_finish_screen(app, journey):
    _signed(journey)
    page = journey.post("/start-over", {})
    assert page.request.path == "/"
    assert "Get your own copy" not in page.text


def test_the_public_base_url_makes_the_link_absolute(app, journey):
    app.config["PUBLIC_BASE_URL"] = "https://consent.clinic.example/"
    url = _signed(journey)
    assert url.startswith("https://consent.clinic.example/copy/")


def test_the_expiry_must_be_a_positive_number_of_minutes(database_url):
    with pytest.raises(ConfigurationError, match="PATIENT_COPY_MINUTES"):
        create_app(_test_config(database_url, PATIENT_COPY_MINUTES=0))
