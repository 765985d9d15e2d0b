"""What an attacker with a staff account, or a curious patient, sends that a form never would.

Each bad input gets a message on the same screen or a 400/404, never a 5xx; the shared
tablet forgets each patient's choices; the browser is told to drop what it kept; and no
address the app makes carries a patient's name or birth date.
"""

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from consentapp.extensions import db

from .conftest import csrf_token
from .journey import PatientJourney, drawn_signature
from .test_patient_copy import qr_text

CLEARED = '"cache", "storage"'
HUGE = "99999999999999999999"
DEEP = "[" * 30_000 + "]" * 30_000


def _record_id(app) -> str:
    with app.app_context(), db.engine.connect() as connection:
        return connection.execute(text("SELECT id FROM consent_records")).scalar_one()


def _dashboard_search(client, **filters):
    """Press "Search" on the dashboard with these filters typed in."""
    page = client.get("/staff/")
    fields = {"q": "", "dob": "", "date_from": "", "date_to": "", "procedure": "",
              "status": "", "sort": "newest", **filters}
    return client.post("/staff/search", data={**fields, "csrf_token": csrf_token(page.text)})


# -- dates the database cannot hold -------------------------------------------------------------


@pytest.mark.parametrize("filters", [
    {"date_to": "9999-12-31"}, {"date_from": "9999-12-31"}, {"dob": "9999-12-31"},
    {"date_from": "0001-01-01"}, {"date_to": "0001-01-01"},
])
def test_dates_out_of_range_are_a_message_on_the_dashboard(staff, filters):
    client = staff("clinician")
    response = _dashboard_search(client, q="maria", **filters)
    assert response.status_code == 200
    assert "Please enter a date between" in response.text
    assert 'value="maria"' in response.text  # what was typed is kept


class TestEastOfUtc:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "CLINIC_TIMEZONE": "Asia/Tokyo"}

    def test_the_first_day_of_year_one_is_a_message(self, staff):
        client = staff("admin")
        response = _dashboard_search(client, date_from="0001-01-01")
        assert response.status_code == 200
        assert "Please enter a date between" in response.text
        audit = client.get("/staff/admin/audit", query_string={"date_from": "0001-01-01"})
        assert audit.status_code == 200
        assert "Please enter a date between" in audit.text


def test_dates_out_of_range_on_the_audit_page_and_its_csv(staff):
    client = staff("admin")
    page = client.get("/staff/admin/audit", query_string={"date_to": "9999-12-31"})
    assert page.status_code == 200
    assert "Please enter a date between" in page.text
    csv = client.get("/staff/admin/audit.csv", query_string={"date_to": "9999-12-31"})
    assert csv.status_code == 400


def test_an_old_style_search_address_never_reaches_the_database_unchecked(staff):
    client = staff("clinician")
    for query in ({"date_to": "9999-12-31"}, {"date_from": "0001-01-01", "q": "ana"}):
        assert client.get("/staff/", query_string=query).status_code < 500
        assert client.get("/staff/records.csv", query_string=query).status_code in (400, 404)


# -- numbers too big for the database -----------------------------------------------------------


def test_a_page_number_past_any_integer_is_not_found(staff):
    client = staff("admin")
    assert client.get("/staff/admin/audit", query_string={"page": HUGE}).status_code == 404
    assert client.get("/staff/", query_string={"page": HUGE}).status_code == 404
    for page in ("-1", "0", "abc", "1e9", "٣"):
        assert client.get("/staff/admin/audit", query_string={"page": page}).status_code == 200


def test_huge_ids_in_addresses_are_not_found(app, staff, journey):
    journey.complete()
    record_id = _record_id(app)
    admin = staff("admin")
    assert admin.get(f"/staff/records/{record_id}/pdf/{HUGE}").status_code == 404
    assert admin.get(f"/staff/admin/staff/{HUGE}").status_code == 404
    token = csrf_token(admin.get("/staff/admin/staff").text)
    for action in ("deactivate", "reactivate", "reset-password"):
        response = admin.post(f"/staff/admin/staff/{HUGE}/{action}", data={"csrf_token": token})
        assert response.status_code == 404, action
    assert admin.get(f"/staff/records/{'9' * 400}").status_code == 404


# -- redirects after sign-in --------------------------------------------------------------------


@pytest.mark.parametrize("target", [
    "/staff/%0d%0aSet-Cookie:%20planted=1", "/staff/\r\nLocation: https://evil.example/",
    "//evil.example/staff/", "/staff/\\\\evil.example", "https://evil.example/staff/",
    "/staff/records?next=%0a",
])
def test_a_hostile_next_after_a_valid_sign_in_goes_to_the_dashboard(auth, client, target):
    auth.create()
    response = auth.login(next_url=target)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "\r" not in location and "\n" not in location and "evil" not in location
    assert "planted" not in response.headers.get("Set-Cookie", "")


def test_next_carries_the_path_only(client):
    response = client.get("/staff/records/abc/pdf", query_string={"search": "x", "page": "2"})
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query == {"next": ["/staff/records/abc/pdf"]}


# -- signatures no pad could draw ----------------------------------------------------------------


def test_a_signature_nested_30000_deep_is_a_message_on_the_sign_step(journey):
    journey.to_signature()
    page = journey.sign(signature=DEEP)
    assert page.status_code == 200
    assert journey.path == "/step/sign"
    assert "We could not read the signature" in page.text


def test_a_countersignature_nested_30000_deep_is_a_message(app, staff, journey):
    journey.complete("diabetes")
    record_id = _record_id(app)
    clinician = staff("clinician", full_name="Dr Ana Ruiz")
    page = clinician.get(f"/staff/records/{record_id}")
    response = clinician.post(f"/staff/records/{record_id}/countersign", data={
        "clinician_name": "Dr Ana Ruiz", "signature": DEEP, "csrf_token": csrf_token(page.text),
    })
    assert response.status_code == 200
    assert "We could not read the signature" in response.text
    # A real drawing still works afterwards.
    page = clinician.get(f"/staff/records/{record_id}")
    response = clinician.post(f"/staff/records/{record_id}/countersign", data={
        "clinician_name": "Dr Ana Ruiz", "signature": drawn_signature(),
        "csrf_token": csrf_token(page.text),
    })
    assert response.status_code == 302


def test_a_signature_far_longer_than_any_drawing_is_refused_before_it_is_parsed(journey):
    journey.to_signature()
    points = [[10 + i % 600, 20 + i % 150] for i in range(60_000)]
    page = journey.sign(signature=json.dumps({"width": 700, "height": 220, "strokes": [points]}))
    assert page.status_code == 200 and "too long" in page.text


# -- the next patient starts afresh ------------------------------------------------------------


def _english_browser(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en-US,en;q=0.9"


@pytest.mark.parametrize("reset", ["/timed-out", "/start-over"])
def test_the_language_is_forgotten_when_the_tablet_resets(journey, client, reset):
    _english_browser(client)
    journey.start(language="es")
    journey.about(name="Lucía Fernández", dob="1975-05-05")
    assert 'lang="es"' in journey.page.text
    response = journey.post(reset, {}, follow_redirects=False)
    assert response.headers["Clear-Site-Data"] == CLEARED
    welcome = journey.get("/")
    assert '<html lang="en"' in welcome.text
    assert "Lucía" not in welcome.text


def test_the_language_front_desk_chose_is_forgotten_after_that_patient(app, staff, client):
    _english_browser(client)
    frontdesk = staff("frontdesk")
    page = frontdesk.get("/staff/")
    response = frontdesk.post("/staff/hand-over", data={
        "procedure": "microneedling", "language": "es", "csrf_token": csrf_token(page.text),
    })
    assert response.status_code == 302
    frontdesk.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en-US,en;q=0.9"
    step = frontdesk.get(response.headers["Location"])
    assert 'lang="es"' in step.text
    start_over = frontdesk.post("/start-over", data={"csrf_token": csrf_token(step.text)})
    assert start_over.status_code == 302
    assert '<html lang="en"' in frontdesk.get("/").text


# -- the browser is told to forget --------------------------------------------------------------


def test_signing_out_clears_the_browsers_cache_and_storage(auth, client):
    auth.create()
    auth.login()
    response = auth.logout()
    assert response.status_code == 302
    assert response.headers["Clear-Site-Data"] == CLEARED


def test_handing_the_tablet_over_clears_the_browsers_cache_and_storage(staff):
    frontdesk = staff("frontdesk")
    page = frontdesk.get("/staff/")
    response = frontdesk.post("/staff/hand-over", data={
        "procedure": "microneedling", "language": "en", "csrf_token": csrf_token(page.text),
    })
    assert response.status_code == 302
    assert response.headers["Clear-Site-Data"] == CLEARED


def _autocomplete(html: str, name: str) -> str | None:
    tag = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', html)
    assert tag, f"no input {name}"
    value = re.search(r'\bautocomplete="([^"]*)"', tag.group(0))
    return value.group(1) if value else None


def test_the_sign_in_form_asks_the_browser_not_to_remember_anything(client):
    page = client.get("/staff/login").text
    assert re.search(r'<form[^>]*method="post"[^>]*autocomplete="off"', page)
    assert _autocomplete(page, "email") == "off"
    assert _autocomplete(page, "password") == "off"


def test_the_patients_forms_ask_the_browser_not_to_remember_anything(journey):
    journey.start()
    page = journey.page.text
    assert re.search(r'<form[^>]*autocomplete="off"', page)
    for name in ("full_name", "contact", "date_of_birth-day"):
        assert _autocomplete(page, name) == "off", name
    journey.about()
    journey.concerns()
    assert re.search(r'<form[^>]*autocomplete="off"', journey.page.text)


# -- the copy link's address -------------------------------------------------------------------


class HostClient(FlaskClient):
    """A browser that sends `host` in every request's Host header."""

    host = "localhost"

    def open(self, *args, **kwargs):
        if args and isinstance(args[0], str):
            kwargs.setdefault("base_url", f"http://{self.host}")
        return super().open(*args, **kwargs)


def _client_for(app, host: str) -> HostClient:
    client = HostClient(app, app.response_class, use_cookies=True)
    client.host = host
    return client


def test_the_copy_qr_never_takes_its_host_from_the_request(app):
    journey = PatientJourney(_client_for(app, "evil.example"))
    journey.complete()
    assert journey.path == "/finished"
    assert journey.page.request.host == "evil.example"
    assert "evil.example" not in journey.page.text
    assert 'class="patient-copy-qr"' not in journey.page.text  # no trusted address: no code
    assert "Ask the staff for a copy" in journey.page.text


class TestTrustedHost:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "TRUSTED_HOSTS": ["consent.clinic.example"]}

    def test_the_copy_qr_uses_the_trusted_host_and_other_hosts_are_refused(self, app):
        journey = PatientJourney(_client_for(app, "consent.clinic.example"))
        journey.complete()
        assert qr_text(journey.page.text).startswith("http://consent.clinic.example/copy/")
        assert _client_for(app, "evil.example").get("/").status_code == 400


def test_sign_in_from_a_hostile_next_keeps_the_session(auth, client):
    """The refused target does not cost the person their sign-in."""
    auth.create()
    auth.login(next_url="/staff/%0d%0a")
    assert client.get("/staff/").status_code == 200
    assert "Consent records" in client.get("/staff/").text
