"""Sign-in and sessions: throttling, session rotation, automatic logoff, deactivation,
temporary passwords and the password rules."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from consentapp.extensions import db
from consentapp.models import SessionEnd, StaffSession, StaffUser, utcnow
from consentapp.staff.passwords import common_passwords, password_problem
from consentapp.staff.sessions import SESSION_KEY

from .conftest import STAFF_PASSWORD, csrf_token, sign_in


def _sessions(app, email):
    with app.app_context():
        return db.session.scalars(
            select(StaffSession).join(StaffUser).where(StaffUser.email == email)
            .order_by(StaffSession.id)
        ).all()


def _signed_in(client) -> bool:
    return client.get("/staff/account/password").status_code == 200


# -- throttling ------------------------------------------------------------------------

def test_repeated_failures_for_one_account_are_throttled_with_a_clear_429(auth, client):
    auth.create("victim@example.org")
    for _ in range(5):
        page = auth.login("victim@example.org", password="wrong password!")
        assert page.status_code == 200
        assert "do not match an active staff account" in page.text
    page = auth.login("victim@example.org", password="wrong password!")
    assert page.status_code == 429
    assert "Too many failed sign-in attempts" in page.text
    assert "signing in to this account is paused" in page.text
    assert 'value="victim@example.org"' in page.text  # what was typed is kept
    # Even the right password waits now: guessing cannot continue by luck.
    assert auth.login("victim@example.org").status_code == 429
    # Another account from the same computer is not locked out by someone else's failures.
    auth.create("colleague@example.org")
    assert auth.login("colleague@example.org").status_code == 302


def test_the_account_limit_ignores_the_case_and_spaces_of_the_email(auth):
    auth.create("victim@example.org")
    for typed in ("VICTIM@example.org", " victim@EXAMPLE.org", "victim@example.org") * 2:
        auth.login(typed, password="wrong password!")
    assert auth.login("Victim@Example.org").status_code == 429


class TestThrottlingPerAddress:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "STAFF_LOGIN_LIMIT_PER_ADDRESS": "4 per 15 minutes"}

    def test_repeated_failures_from_one_address_are_throttled(self, auth):
        auth.create("real@example.org")
        for number in range(4):
            assert auth.login(f"guess{number}@example.org", password="x" * 12).status_code == 200
        page = auth.login("real@example.org")
        assert page.status_code == 429
        assert "signing in from this computer is paused" in page.text


def test_successful_sign_ins_do_not_count_towards_the_limits(auth):
    auth.create()
    for _ in range(8):
        assert auth.login().status_code == 302
        auth.logout()


# -- session rotation and sign-out -------------------------------------------------------

def test_signing_in_rotates_the_session(app, auth, client):
    auth.create()
    client.get("/staff/login")
    with client.session_transaction() as planted:  # an attacker's fixed session id
        planted[SESSION_KEY] = "attacker-chosen-token"
        planted["_user_id"] = "1"
    before = client.get_cookie("session").value
    assert not _signed_in(client)

    auth.login()
    with client.session_transaction() as fresh:
        token = fresh[SESSION_KEY]
    assert token != "attacker-chosen-token" and len(token) >= 40
    assert client.get_cookie("session").value != before

    # The cookie from before sign-in gives nothing, and a second sign-in rotates again.
    stale = app.test_client()
    stale.set_cookie("session", before)
    assert not _signed_in(stale)
    auth.login()
    with client.session_transaction() as again:
        assert again[SESSION_KEY] != token
    rows = _sessions(app, "clinician@example.org")
    assert len(rows) == 2 and len({row.token_sha256 for row in rows}) == 2
    assert all(token not in row.token_sha256 for row in rows)  # only hashes are stored


def test_a_copied_cookie_stops_working_after_sign_out(app, auth, client):
    auth.create()
    auth.login()
    copied = client.get_cookie("session").value
    auth.logout()
    replay = app.test_client()
    replay.set_cookie("session", copied)
    assert not _signed_in(replay)
    assert _sessions(app, "clinician@example.org")[0].end_reason == SessionEnd.SIGNED_OUT


# -- automatic logoff --------------------------------------------------------------------

def _idle_for(app, email, minutes: float) -> None:
    with app.app_context():
        user_id = db.session.scalar(select(StaffUser.id).where(StaffUser.email == email))
        db.session.execute(
            update(StaffSession).where(StaffSession.user_id == user_id)
            .values(last_seen_at=utcnow() - timedelta(minutes=minutes))
        )
        db.session.commit()


def test_an_idle_session_is_ended_by_the_server_after_15_minutes(app, auth, client, make_record):
    record_id = make_record("Idle Patient")
    auth.create()
    auth.login()
    _idle_for(app, "clinician@example.org", 14.5)
    assert client.get(f"/staff/records/{record_id}").status_code == 200  # still in time

    _idle_for(app, "clinician@example.org", 15.5)
    response = client.get(f"/staff/records/{record_id}")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login")
    page = client.get(response.headers["Location"])
    assert "signed out after 15 minutes without activity" in page.text
    assert "Idle Patient" not in page.text
    assert _sessions(app, "clinician@example.org")[0].end_reason == SessionEnd.IDLE
    # Being active again does not revive it.
    assert not _signed_in(client)


def test_asking_how_long_is_left_does_not_count_as_activity(app, auth, client):
    auth.create()
    auth.login()
    _idle_for(app, "clinician@example.org", 10)
    status = client.get("/staff/session").get_json()
    assert status["signed_in"] is True and 290 <= status["remaining_seconds"] <= 300
    assert 290 <= client.get("/staff/session").get_json()["remaining_seconds"] <= 300
    token = csrf_token(client.get("/staff/account/password").text)  # a page view is activity
    _idle_for(app, "clinician@example.org", 10)
    extended = client.post("/staff/session/extend", headers={"X-CSRFToken": token}).get_json()
    assert extended["remaining_seconds"] >= 895


def test_pages_carry_the_idle_settings_for_the_warning_script(auth, client):
    auth.create()
    auth.login()
    page = client.get("/staff/")
    assert 'data-idle-seconds="900"' in page.text and 'data-warn-seconds="120"' in page.text
    assert '<script src="/static/js/idle-logoff.js"></script>' in page.text
    with client.get("/static/js/idle-logoff.js") as script:
        assert script.status_code == 200 and b"idle-warning" in script.data


class TestConfigurableIdleTime:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "STAFF_IDLE_MINUTES": 5}

    def test_the_idle_limit_follows_staff_idle_minutes(self, app, auth, client):
        auth.create()
        auth.login()
        assert 'data-idle-seconds="300"' in client.get("/staff/").text
        _idle_for(app, "clinician@example.org", 5.5)
        assert not _signed_in(client)


# -- deactivation and passwords --------------------------------------------------------

def test_deactivating_an_account_throws_it_out_mid_session(app, runner, staff, make_record):
    record_id = make_record("Private Patient")
    laptop = staff("frontdesk", "leaver@example.org")
    tablet = staff("frontdesk", "leaver@example.org")
    assert laptop.get(f"/staff/records/{record_id}").status_code == 200

    result = runner.invoke(args=["deactivate-staff", "Leaver@example.org"])
    assert result.exit_code == 0, result.output
    assert "ended 2 open session(s)" in result.output

    for device in (laptop, tablet):
        response = device.get(f"/staff/records/{record_id}")
        assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
    assert sign_in(app.test_client(), "leaver@example.org").status_code == 200  # refused
    with app.app_context():
        user = db.session.scalar(select(StaffUser).where(StaffUser.email == "leaver@example.org"))
        assert user is not None and not user.active and user.deactivated_at is not None


def test_a_deactivated_account_is_thrown_out_even_without_the_cli(app, staff):
    client = staff("clinician")
    with app.app_context():  # e.g. a second admin server switched it off in the database
        db.session.execute(update(StaffUser).values(active=False))
        db.session.commit()
    assert not _signed_in(client)
    assert _sessions(app, "clinician@example.org")[0].end_reason == SessionEnd.DEACTIVATED


def test_deactivate_staff_names_an_unknown_email(runner):
    result = runner.invoke(args=["deactivate-staff", "nobody@example.org"])
    assert result.exit_code == 1 and "no staff account for nobody@example.org" in result.output


def test_reset_password_gives_a_temporary_password_that_must_be_changed(app, runner, staff):
    old_device = staff("clinician")
    result = runner.invoke(args=["reset-password", "clinician@example.org"])
    assert result.exit_code == 0, result.output
    temporary = result.output.split("Temporary password for clinician@example.org: ")[1].split()[0]
    assert len(temporary) == 19
    assert not _signed_in(old_device)  # the reset ended every session

    client = app.test_client()
    assert sign_in(client, "clinician@example.org").status_code == 200  # old password gone
    response = sign_in(client, "clinician@example.org", temporary)
    assert response.headers["Location"] == "/staff/account/password"
    # Nothing else opens until a new password is chosen.
    assert client.get("/staff/").headers["Location"] == "/staff/account/password"
    page = client.get("/staff/account/password")
    assert "temporary password" in page.text

    def change(new, confirm=None):
        token = csrf_token(client.get("/staff/account/password").text)
        return client.post("/staff/account/password", data={
            "current_password": temporary, "new_password": new,
            "confirm": new if confirm is None else confirm, "csrf_token": token,
        })

    assert "at least 12 characters" in change("short").text
    assert "commonly used passwords" in change("Password2024!").text
    assert "not the same" in change("maple kettle orbit sand", "maple kettle orbit").text
    assert "must not contain your email" in change("clinician-rules-here").text
    done = change("maple kettle orbit sand")
    assert done.status_code == 302 and done.headers["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200
    with app.app_context():
        user = db.session.scalar(select(StaffUser))
        assert not user.must_change_password
    assert sign_in(app.test_client(), "clinician@example.org", "maple kettle orbit sand"
                   ).status_code == 302


def test_changing_ones_password_signs_out_other_devices(app, staff):
    phone = staff("clinician")
    desk = staff("clinician")
    token = csrf_token(desk.get("/staff/account/password").text)
    response = desk.post("/staff/account/password", data={
        "current_password": STAFF_PASSWORD, "new_password": "maple kettle orbit sand",
        "confirm": "maple kettle orbit sand", "csrf_token": token,
    })
    assert response.status_code == 302
    assert _signed_in(desk) and not _signed_in(phone)


@pytest.mark.parametrize(("password", "problem"), [
    ("eleven char", "at least 12"),
    ("passwordpassword", "commonly used"),
    ("QwertyUIOP123", "commonly used"),
    ("correct horse battery staple", "commonly used"),
    ("Clinic123456", "commonly used"),
    ("dr.jones.is.here", "email"),
])
def test_password_rules(password, problem):
    assert problem in password_problem(password, email="dr.jones@example.org")


def test_long_unusual_passwords_pass_without_composition_rules():
    assert password_problem("maple kettle orbit sand") is None
    assert password_problem("aaaaaaaaaaab") is None  # no "must contain a digit" rules


def test_the_shipped_common_password_list_is_what_the_generator_makes():
    from consentapp.staff.common_passwords import generate

    shipped = common_passwords()
    assert 3000 <= len(shipped) <= 10000
    assert shipped == frozenset(generate())
    assert all(len(entry) >= 12 for entry in shipped)


def test_create_staff_refuses_a_common_password(runner):
    result = runner.invoke(
        args=["create-staff", "x@example.org", "--role", "admin", "--password", "password1234"]
    )
    assert result.exit_code == 1 and "commonly used" in result.output


def test_create_staff_takes_a_name(app, runner):
    result = runner.invoke(args=[
        "create-staff", "ana@example.org", "--role", "clinician", "--name", "Dr Ana Ruiz",
        "--password", "maple kettle orbit sand",
    ])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(StaffUser)).display_name == "Dr Ana Ruiz"
