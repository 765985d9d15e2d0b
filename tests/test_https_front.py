"""What a tablet on the clinic's network sees through deploy/Caddyfile (tests/https_front.py
runs Caddy and gunicorn): the clinic's root, Secure cookies, HSTS, Clear-Site-Data where a
patient's turn ends, the tablet's own address where the app records one; and `doctor` passing
on such an install.
"""

import http.client
import re
import socket
import ssl
from pathlib import Path

import pytest
from sqlalchemy import select

from consentapp.extensions import db
from consentapp.models import EventKind, RecordEvent, StaffSession

from .conftest import STAFF_PASSWORD
from .https_front import TABLET_ADDRESS, Front, TabletConnection, tablet

FORGED_ADDRESS = "203.0.113.9"


def test_the_tablet_gets_https_from_the_clinics_own_root(front):
    connection = TabletConnection(front)
    try:
        connection.request("GET", "/")
        response = connection.getresponse()
        page = response.read().decode()
    finally:
        connection.close()
    assert response.status == 200
    assert "Microneedling" in page  # the app's welcome page, through the proxy
    # The certificate was checked against the root this Caddy made, and nothing else:
    system_roots_only = ssl.create_default_context()
    with socket.create_connection(("127.0.0.1", front.https_port)) as raw:
        with pytest.raises(ssl.SSLCertVerificationError):
            system_roots_only.wrap_socket(raw, server_hostname="localhost")


def test_the_root_certificate_is_offered_over_plain_http_and_all_else_redirects(front):
    connection = http.client.HTTPConnection("127.0.0.1", front.http_port, timeout=10)
    try:
        connection.request("GET", "/clinic-root.crt", headers={"Host": "localhost"})
        response = connection.getresponse()
        body = response.read()
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/x-x509-ca-cert"
        assert body == front.root_cert.read_bytes()
        # Nothing else of Caddy's folder (its private key sits beside the certificate).
        connection.request("GET", "/root.key", headers={"Host": "localhost"})
        response = connection.getresponse()
        response.read()
        assert response.status == 308
        assert response.headers["Location"].startswith("https://localhost")
        assert "Strict-Transport-Security" not in response.headers
    finally:
        connection.close()


def test_cookies_are_secure_and_hsts_is_sent_on_every_https_page(front, auth):
    auth.create("frontdesk@example.org", role="frontdesk")
    device, connection = tablet(front)
    try:
        device.get("/")
        assert connection.last_headers["Strict-Transport-Security"].startswith("max-age=")
        device.get("/staff/login")
        assert "Strict-Transport-Security" in connection.last_headers
        device.post("/staff/login", {"email": "frontdesk@example.org",
                                     "password": STAFF_PASSWORD})
        assert "Strict-Transport-Security" in connection.last_headers
    finally:
        device.close()
    # The session cookie: set on the welcome page, and again at sign-in (a new session).
    assert len(connection.set_cookies) >= 2, connection.set_cookies
    for header in connection.set_cookies:
        assert re.search(r";\s*Secure(;|$)", header, re.IGNORECASE), header
        assert re.search(r";\s*HttpOnly(;|$)", header, re.IGNORECASE), header


def test_plain_http_straight_to_gunicorn_gets_no_hsts(front):
    connection = http.client.HTTPConnection("127.0.0.1", front.gunicorn_port, timeout=10)
    try:
        connection.request("GET", "/")
        response = connection.getresponse()
        response.read()
        assert response.status == 200
        assert "Strict-Transport-Security" not in response.headers
    finally:
        connection.close()


def test_a_patients_turn_ends_with_clear_site_data_and_the_tablets_own_address(front, app):
    # A client that claims another address gets none of it: Caddy trusts no proxy before it.
    device, connection = tablet(front, **{"X-Forwarded-For": FORGED_ADDRESS})
    try:
        device.journey("Maria Example")
    finally:
        device.close()
    clearing = [(method, url) for method, url, headers in connection.exchanges
                if headers.get("Clear-Site-Data") == '"cache", "storage"']
    # The signature's answer and the finish screen, and no page before them.
    assert clearing == [("POST", "/step/sign"), ("GET", "/finished")]
    assert all("Strict-Transport-Security" in headers for *_, headers in connection.exchanges)
    with app.app_context():
        signed = db.session.scalars(
            select(RecordEvent).where(RecordEvent.kind == EventKind.SIGNED)
        ).all()
        assert [event.details["address"] for event in signed] == [TABLET_ADDRESS]


def test_a_staff_session_records_the_tablets_address_not_the_proxys(front, app, auth):
    auth.create("clinician@example.org", role="clinician")
    device, connection = tablet(front, **{"X-Forwarded-For": FORGED_ADDRESS})
    try:
        device.get("/staff/login")
        device.post("/staff/login", {"email": "clinician@example.org",
                                     "password": STAFF_PASSWORD})
    finally:
        device.close()
    with app.app_context():
        addresses = db.session.scalars(select(StaffSession.address)).all()
    assert addresses == [TABLET_ADDRESS]


def _installed(app_config, front: Front, tmp_path: Path, **overrides):
    """The app as deploy/ installs it, on the database the front serves."""
    from consentapp import create_app
    from consentapp.records.clinic_key import generate_self_signed

    generate_self_signed(tmp_path / "seal", "Riverside Skin Clinic")
    return create_app({
        **app_config,
        "SECRET_KEY": "9f6c2e7a1b3d4c5e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c",
        "PUBLIC_BASE_URL": front.base_url,
        "CLINIC_PHONE": "(555) 010-0199",
        "CLINIC_TIMEZONE": "America/Chicago",
        "PDF_RENDER_MODE": "worker",
        "SEAL_KEY_DIR": str(tmp_path / "seal"),
        "BACKUP_DIR": str(tmp_path / "backups"),
        **overrides,
    })


def test_doctor_passes_on_a_good_install(front, app, app_config, tmp_path, monkeypatch):
    from consentapp.records.jobs import RenderWorker

    monkeypatch.setenv("SSL_CERT_FILE", str(front.root_cert))  # as update-ca-certificates does
    monkeypatch.setenv("GUNICORN_WORKERS", "1")  # memory:// throttling is then shared
    installed = _installed(app_config, front, tmp_path)
    runner = installed.test_cli_runner()
    backup = runner.invoke(args=["backup"])  # into BACKUP_DIR, as the timer does
    postgresql = installed.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    assert backup.exit_code == (1 if postgresql else 0), backup.output
    RenderWorker(installed).run_once()  # the worker's first pass, and its heartbeat

    result = runner.invoke(args=["doctor"])
    lines = result.output.splitlines()
    assert len(lines) == 12 and all(line.startswith("ok ") for line in lines), result.output
    assert result.exit_code == 0
    assert f"ok       public address: {front.base_url} answers over trusted HTTPS" in lines
    with installed.app_context():
        db.engine.dispose()


def test_doctor_names_a_certificate_this_server_does_not_trust(front, app_config, tmp_path,
                                                                monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)  # the system's roots only
    installed = _installed(app_config, front, tmp_path)
    result = installed.test_cli_runner().invoke(args=["doctor"])
    line = next(line for line in result.output.splitlines() if "public address" in line)
    assert line.startswith(f"PROBLEM  public address: {front.base_url}: this server does not "
                           "trust its certificate")
    assert "update-ca-certificates" in line
    assert result.exit_code == 1
    with installed.app_context():
        db.engine.dispose()
