"""Hand-over to the tablet: front desk starts a patient, the staff session on the device ends,
and only a staff sign-in leaves patient mode."""

from sqlalchemy import select

from consentapp.extensions import db
from consentapp.models import PatientDraft, SessionEnd, StaffSession

from .conftest import csrf_token, sign_in


def _session_data(client) -> dict:
    with client.session_transaction() as data:
        return dict(data)


def test_front_desk_hands_the_tablet_to_a_patient(app, staff, make_record):
    record_id = make_record("Earlier Patient")
    tablet = staff("frontdesk")
    page = tablet.get("/staff/")
    assert "Start a patient on this tablet" in page.text
    response = tablet.post("/staff/hand-over", data={
        "procedure": "microneedling", "csrf_token": csrf_token(page.text)})
    assert response.status_code == 302 and response.headers["Location"] == "/step/about"
    assert "Your full name" in tablet.get("/step/about").text

    data = _session_data(tablet)
    assert data["patient_mode"] is True
    assert "_user_id" not in data and "staff_session" not in data
    assert set(data) <= {"patient_mode", "draft_id", "csrf_token", "_fresh", "_flashes", "language"}
    assert data["language"] == "en"  # none chosen on the staff page: English
    with app.app_context():
        row = db.session.scalars(select(StaffSession)).one()
        assert row.end_reason == SessionEnd.HANDED_OVER

    # The patient cannot wander back into the staff pages.
    away = tablet.get(f"/staff/records/{record_id}")
    assert away.status_code == 302 and away.headers["Location"].startswith("/staff/login")
    login = tablet.get("/staff/")
    assert "This device is in patient mode" in login.text
    assert "Earlier Patient" not in login.text
    assert "Staff: sign in to leave patient mode" in tablet.get("/").text


def test_a_staff_sign_in_leaves_patient_mode_and_discards_the_unfinished_form(app, staff, journey):
    tablet = staff("frontdesk")
    page = tablet.get("/staff/")
    tablet.post("/staff/hand-over", data={"procedure": "microneedling",
                                          "csrf_token": csrf_token(page.text)})
    journey.client = tablet
    journey.get("/step/about")
    journey.about(name="Half Done")
    with app.app_context():
        assert db.session.scalars(select(PatientDraft)).one() is not None

    assert sign_in(tablet, "frontdesk@example.org").status_code == 302
    assert "patient_mode" not in _session_data(tablet)
    assert tablet.get("/staff/").status_code == 200
    with app.app_context():
        assert db.session.scalars(select(PatientDraft)).all() == []


def test_hand_over_needs_a_known_procedure(staff):
    tablet = staff("frontdesk")
    page = tablet.get("/staff/")
    response = tablet.post("/staff/hand-over", data={
        "procedure": "tattoo", "csrf_token": csrf_token(page.text)}, follow_redirects=True)
    assert "Please choose a procedure" in response.text
    assert "staff_session" in _session_data(tablet)  # still signed in


def test_starting_from_the_patient_screen_also_ends_the_server_side_session(app, staff, journey):
    tablet = staff("clinician")
    journey.client = tablet
    journey.start()
    with app.app_context():
        row = db.session.scalars(select(StaffSession)).one()
        assert row.ended_at is not None and row.end_reason == SessionEnd.HANDED_OVER
    assert _session_data(tablet)["patient_mode"] is True
    assert "staff_session" not in _session_data(tablet)
