"""The minimal staff side: accounts from the CLI, sign-in, records, PDF download."""

import pytest
from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from consentapp.extensions import db
from consentapp.models import ConsentRecord, RecordEvent, StaffUser
from consentapp.staff.passwords import verify_password

from .conftest import STAFF_PASSWORD


def test_create_staff_makes_an_argon2_account(app, runner):
    result = runner.invoke(
        args=["create-staff", "Front@Example.org", "--role", "frontdesk",
              "--password", "a long enough password"]
    )
    assert result.exit_code == 0, result.output
    assert "Created frontdesk account front@example.org" in result.output
    with app.app_context():
        user = db.session.scalars(select(StaffUser)).one()
        assert user.email == "front@example.org" and user.role == "frontdesk"
        assert user.password_hash.startswith("$argon2id$")
        assert verify_password(user.password_hash, "a long enough password")


def test_create_staff_prompts_for_the_password_when_not_given(app, runner):
    result = runner.invoke(
        args=["create-staff", "admin@example.org", "--role", "admin"],
        input="a long enough password\na long enough password\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalars(select(StaffUser)).one().role == "admin"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "janitor", "--password", "a long enough password"], "'janitor' is not one of"),
        (["--role", "admin", "--password", "short"], "at least 12 characters"),
    ],
)
def test_create_staff_refuses_bad_input_clearly(runner, args, message):
    result = runner.invoke(args=["create-staff", "x@example.org", *args])
    assert result.exit_code != 0
    assert message in result.output


def test_create_staff_refuses_a_duplicate_email(runner, auth):
    auth.create("dup@example.org")
    result = runner.invoke(
        args=["create-staff", "DUP@example.org", "--role", "admin", "--password", "x" * 12]
    )
    assert result.exit_code == 1
    assert "already exists" in result.output


def test_staff_root_shows_the_sign_in_form_when_signed_out(client):
    page = client.get("/staff/")
    assert page.status_code == 200
    assert "Staff sign-in" in page.text
    assert '<label class="field-label" for="email">Email</label>' in page.text


def test_wrong_password_is_refused_with_a_message(auth, client):
    auth.create()
    page = auth.login(password="not the password")
    assert page.status_code == 200
    assert "do not match an active staff account" in page.text
    assert client.get("/staff/").text.count("Staff sign-in") >= 1


def test_sign_in_lists_records_newest_first_and_sign_out_ends_it(auth, client, journey):
    journey.complete(name="Ana First", dob="1980-01-01")
    journey.complete(name="Ben Second", dob="1990-02-02")
    auth.create()
    response = auth.login()
    assert response.status_code == 302 and response.headers["Location"] == "/staff/"

    page = client.get("/staff/")
    assert page.text.index("Ben Second") < page.text.index("Ana First")
    assert "1990-02-02" in page.text and "Signed" in page.text

    auth.logout()
    assert "Staff sign-in" in client.get("/staff/").text


@pytest.mark.renders_pdfs
def test_staff_open_a_record_and_download_its_pdf_with_a_safe_name(app, auth, client, journey):
    journey.complete(name="Zoë O'Brien-Núñez", dob="1965-07-30")
    auth.create()
    auth.login()
    with app.app_context():
        record = db.session.scalars(select(ConsentRecord)).one()
        record_id = record.id

    page = client.get(f"/staff/records/{record_id}")
    assert page.status_code == 200
    assert "Zoë O&#39;Brien-Núñez" in page.text
    assert "Download PDF" in page.text

    download = client.get(f"/staff/records/{record_id}/pdf")
    assert download.status_code == 200
    assert download.mimetype == "application/pdf"
    assert download.data.startswith(b"%PDF")
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    filename = disposition.split("filename=")[1]
    assert filename.isascii() and '"' not in filename.strip('"') and "/" not in filename
    assert "brien-nunez" in filename and filename.endswith("-v1.pdf")

    with app.app_context():
        kinds = db.session.scalars(
            select(RecordEvent.kind).where(RecordEvent.record_id == record_id)
        ).all()
    assert "viewed" in kinds and "downloaded" in kinds


def test_an_unknown_record_is_a_friendly_404(auth, client):
    auth.create()
    auth.login()
    page = client.get("/staff/records/00000000-0000-0000-0000-000000000000")
    assert page.status_code == 404
    assert "Page not found" in page.text


def test_next_redirect_only_goes_to_staff_pages(auth, client):
    auth.create()
    assert auth.login(next_url="/staff/records/abc").headers["Location"] == "/staff/records/abc"
    auth.logout()
    for target in ("https://evil.example/", "//evil.example/staff/", "/step/about"):
        assert auth.login(next_url=target).headers["Location"] == "/staff/"
        auth.logout()


def _staff_urls(app) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("staff.") or rule.endpoint == "staff.login":
            continue
        values = {
            arg: 1 if isinstance(rule._converters[arg], IntegerConverter)
            else "00000000-0000-0000-0000-000000000000"
            for arg in rule.arguments
        }
        with app.test_request_context():
            from flask import url_for

            methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
            urls.append((url_for(rule.endpoint, **values), methods))
    return urls


def test_a_patient_session_is_refused_on_every_staff_url(app, client, journey):
    journey.start()
    journey.about(name="Curious Patient")
    urls = _staff_urls(app)
    assert len(urls) >= 4
    for url, methods in urls:
        for method in methods:
            response = client.open(url, method=method)
            if url == "/staff/" and method == "GET":
                assert "Staff sign-in" in response.text and "Curious Patient" not in response.text
            else:
                assert response.status_code in (302, 400), (url, method)
                if response.status_code == 302:
                    assert response.headers["Location"].startswith("/staff/login"), url


def test_signing_in_on_the_tablet_ends_patient_mode(app, auth, client, journey):
    journey.start()
    journey.about(name="Left Behind")
    auth.create()
    auth.login()
    page = client.get("/")
    assert "already started" not in page.text


def test_starting_a_patient_signs_the_staff_member_out(auth, client, journey):
    auth.create()
    auth.login()
    journey.start()
    assert client.get("/staff/records/x").status_code == 302


def test_a_deactivated_account_cannot_sign_in(app, auth):
    auth.create()
    with app.app_context():
        user = db.session.scalars(select(StaffUser)).one()
        user.active = False
        db.session.commit()
    page = auth.login(password=STAFF_PASSWORD)
    assert "do not match an active staff account" in page.text
