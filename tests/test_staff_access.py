"""Deny by default: the whole URL map against the role matrix, for every role and for
people who are not signed in at all (anonymous, or a patient on the tablet)."""

import pytest
from flask import url_for
from werkzeug.routing import IntegerConverter

from consentapp.extensions import db
from consentapp.models import ConsentRecord, StaffRole, StaffUser
from consentapp.records.verification import code_for
from consentapp.staff.access import PUBLIC_ENDPOINTS, ROLE_MATRIX, permission_of

from .conftest import csrf_token


def _staff_rules(app):
    return [
        rule for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("staff.") and rule.endpoint not in PUBLIC_ENDPOINTS
    ]


def _url(app, rule, record_id: str, user_id: int) -> str:
    values = {}
    for argument in rule.arguments:
        if argument == "version":
            values[argument] = 1
        elif argument == "code":  # the record's verification code, printed on its PDF
            with app.app_context():
                values[argument] = code_for(record_id)
        elif isinstance(rule._converters[argument], IntegerConverter):
            values[argument] = user_id
        else:
            values[argument] = record_id
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


def _requests(app, record_id: str, user_id: int):
    """Every (method, url, endpoint) of the staff side; sign-out last, as it ends the session."""
    found = []
    for rule in _staff_rules(app):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, _url(app, rule, record_id, user_id), rule.endpoint))
    return sorted(found, key=lambda item: item[2] == "staff.logout")


@pytest.fixture
def world(app, make_record, built_once):
    """One signed record with its PDF, and an account that admin actions may act upon (built
    once per process; each test gets the rows back, whatever the one before changed)."""
    from consentapp.records.jobs import process_pending

    def signed_record_and_an_account():
        record_id = make_record("Matrix Patient", "1970-01-01")
        with app.app_context():
            process_pending()
            target = StaffUser(email="target@example.org", password_hash="x", role="frontdesk")
            db.session.add(target)
            db.session.commit()
            return record_id, target.id

    record_id, target_id = built_once(signed_record_and_an_account)
    with app.app_context():
        assert db.session.get(ConsentRecord, record_id).latest_pdf is not None
    return record_id, target_id


def test_every_staff_view_is_public_or_needs_a_permission_from_the_matrix(app):
    rules = _staff_rules(app)
    assert len(rules) >= 20
    for rule in rules:
        assert permission_of(rule.endpoint, app) in ROLE_MATRIX, rule.endpoint
    assert PUBLIC_ENDPOINTS == {"staff.login"}


@pytest.mark.parametrize("role", tuple(StaffRole))
def test_each_role_gets_exactly_what_the_role_matrix_says(app, staff, world, role):
    record_id, target_id = world
    client = staff(role)
    token = csrf_token(client.get("/staff/account/password").text)
    seen_allowed, seen_refused = set(), set()
    for method, url, endpoint in _requests(app, record_id, target_id):
        allowed = role in ROLE_MATRIX[permission_of(endpoint, app)]
        data = {"csrf_token": token} if method == "POST" else None
        response = client.open(url, method=method, data=data)
        where = (role, method, url)
        if allowed:
            seen_allowed.add(endpoint)
            assert response.status_code in ((200,) if method == "GET" else (200, 302)), where
            if endpoint == "staff.logout":  # allowed, and so signed out
                assert response.headers["Location"] == "/staff/login", where
                assert client.get("/staff/account/password").status_code == 302
            elif response.status_code == 302:
                assert not response.headers["Location"].startswith("/staff/login"), where
        else:
            seen_refused.add(endpoint)
            assert response.status_code == 403, where
            assert "Your account cannot open this page" in response.text
    granted = {e for e in seen_allowed | seen_refused if role in ROLE_MATRIX[permission_of(e, app)]}
    assert seen_allowed == granted
    # Spot checks that the matrix itself says what the issue asks for.
    assert ("staff.review" in seen_allowed) == (role == StaffRole.CLINICIAN)
    assert ("staff.staff_list" in seen_allowed) == (role == StaffRole.ADMIN)
    assert ("staff.hand_over" in seen_allowed) == (role == StaffRole.FRONTDESK)
    assert "staff.download_pdf" in seen_allowed


def _assert_refused_when_not_signed_in(app, client, token, record_id, target_id, marker=None):
    for method, url, _endpoint in _requests(app, record_id, target_id):
        data = {"csrf_token": token} if method == "POST" else None
        response = client.open(url, method=method, data=data)
        if url == "/staff/" and method == "GET":
            assert response.status_code == 200 and "Staff sign-in" in response.text
            assert "Matrix Patient" not in response.text
        else:
            assert response.status_code == 302, (method, url)
            assert response.headers["Location"].startswith("/staff/login"), (method, url)
        if marker:
            assert marker not in response.text


def test_anonymous_visitors_are_refused_everywhere(app, client, world):
    record_id, target_id = world
    token = csrf_token(client.get("/staff/login").text)
    _assert_refused_when_not_signed_in(app, client, token, record_id, target_id)


def test_a_patient_session_is_refused_everywhere(app, client, journey, world):
    record_id, target_id = world
    journey.start()
    journey.about(name="Curious Patient")
    token = csrf_token(journey.page.text)
    _assert_refused_when_not_signed_in(app, client, token, record_id, target_id,
                                       marker="Curious Patient")


def test_a_view_someone_forgot_to_protect_is_refused_to_every_role(app, staff):
    app.add_url_rule("/staff/forgotten", endpoint="staff.forgotten", view_func=lambda: "secret")
    for role in tuple(StaffRole):
        response = staff(role).get("/staff/forgotten")
        assert response.status_code == 403 and "secret" not in response.text


def test_no_interface_deletes_a_record(app, staff, world):
    record_id, _ = world
    for rule in app.url_map.iter_rules():
        assert "DELETE" not in rule.methods, rule
        assert "delete" not in rule.endpoint.lower(), rule
    client = staff(StaffRole.ADMIN)
    assert client.delete(f"/staff/records/{record_id}").status_code == 405
    with app.app_context():
        assert db.session.get(ConsentRecord, record_id) is not None
