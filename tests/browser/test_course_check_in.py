"""A course's later visits on a portrait tablet in Chromium: front desk starts a check-in from
the record page, the patient confirms their date of birth, answers the check-in questions
(a follow-up appears as they answer), signs with a finger or by typing, and is asked to hand
the tablet back. Each screen is held to the layout checks of the first consent; screenshots
go to test-artifacts/issue18/ for a person to look at, and the time each check-in took by
this test's clock is printed (`-s` shows it)."""

import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from consentapp.extensions import db
from consentapp.models import EventKind, RecordEvent, RecordPdf, StaffUser
from consentapp.records.jobs import process_pending
from consentapp.staff.passwords import hash_password

from ..conftest import STAFF_PASSWORD
from ..pdf import pdf_text
from .checks import layout_problems
from .patient import draw_signature_with_touch

pytestmark = pytest.mark.browser

NAME, DOB = "Rosa Tablet", "1962-11-02"


def _front_desk(app):
    with app.app_context():
        db.session.add(StaffUser(email="desk@example.org", full_name="Dee Desk", role="frontdesk",
                                 password_hash=hash_password(STAFF_PASSWORD)))
        db.session.commit()


def _sign_in(page, server_url):
    page.goto(server_url + "/staff/")
    page.get_by_label("Email").fill("desk@example.org")
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    with page.expect_navigation():  # signed in before the next page is asked for
        page.get_by_role("button", name="Sign in").click()


def _start_check_in(page, server_url, record_id, screenshot=None):
    _sign_in(page, server_url)
    page.goto(f"{server_url}/staff/records/{record_id}")
    if screenshot:
        screenshot(page, "issue18/01-staff-record-course")
    page.get_by_role("button", name="Start a visit check-in on this tablet").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome back, Rosa")


def _date_of_birth(page, dob=DOB):
    year, month, day = dob.split("-")
    birth = page.get_by_role("group", name="Your date of birth")
    birth.get_by_label("Day").fill(day)
    birth.get_by_label("Month").fill(month)
    birth.get_by_label("Year").fill(year)
    page.get_by_role("button", name="Continue").click()


def _answer(page, question: str, label: str):
    page.locator(f"#{question}").get_by_label(label, exact=True).check()


ASKED = ("isotretinoin_use", "pregnant_now", "cold_sore_history", "skin_infection",
         "active_acne", "sunburn", "recent_treatments", "new_medicines", "health_changed")
NO_LABELS = {"isotretinoin_use": "No, or I stopped more than 6 months ago"}


def test_two_check_ins_on_the_tablet(app, server_url, open_device, screenshot, make_record):
    record_id = make_record(NAME, DOB)
    with app.app_context():
        process_pending()
    _front_desk(app)
    page = open_device("tablet-portrait")
    timings = {}

    # Visit 2: nothing has changed; a drawn signature.
    _start_check_in(page, server_url, record_id, screenshot)
    started = time.monotonic()
    assert layout_problems(page) == []
    screenshot(page, "issue18/02-check-in-date-of-birth")
    _date_of_birth(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your check-in for today")
    assert layout_problems(page) == []
    # Asked fresh: no answer is chosen before the patient chooses it.
    assert page.locator("input[type=radio]:checked").count() == 0
    screenshot(page, "issue18/03-check-in-questions")
    for key in ASKED:
        _answer(page, key, NO_LABELS.get(key, "No"))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm and sign")
    assert layout_problems(page) == []
    page.get_by_label("Nothing else about my health has changed since my last visit.").check()
    page.get_by_label("Draw my signature with my finger").check()
    draw_signature_with_touch(page)
    screenshot(page, "issue18/04-check-in-sign")
    page.get_by_role("button", name="Sign and finish").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you. You are all done.")
    timings["visit 2 (eligible, drawn)"] = time.monotonic() - started
    assert layout_problems(page) == []
    expect(page.get_by_text("Please hand the tablet back to a member of staff.")).to_be_visible()
    screenshot(page, "issue18/05-check-in-finished")

    # Visit 3: a change in health and a new medicine; the follow-ups appear as answered.
    _start_check_in(page, server_url, record_id)
    started = time.monotonic()
    _date_of_birth(page)
    for key in ASKED:
        _answer(page, key, NO_LABELS.get(key, "No"))
    _answer(page, "new_medicines", "Yes")
    page.get_by_label("Which ones?").fill("Levothyroxine")
    _answer(page, "health_changed", "Yes")
    page.get_by_label("What has changed?").fill("A new thyroid pill")
    screenshot(page, "issue18/06-check-in-questions-changed")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("A clinician will talk with you first")).to_be_visible()
    screenshot(page, "issue18/07-check-in-needs-review")
    page.get_by_label("Nothing else about my health has changed since my last visit.").check()
    page.get_by_label("Type my name as my signature").check()
    page.get_by_label("Type your full name").fill(NAME)
    page.get_by_role("button", name="Sign and finish").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you. You are all done.")
    timings["visit 3 (needs review, typed)"] = time.monotonic() - started

    with app.app_context():
        process_pending()
        visits = db.session.scalars(select(RecordEvent).where(
            RecordEvent.kind == EventKind.VISIT_CHECKED_IN).order_by(RecordEvent.id)).all()
        assert [v.details["outcome"] for v in visits] == ["eligible", "needs_review"]
        assert visits[0].details["signature"]["strokes"]  # drawn with a finger
        pdf = db.session.scalars(select(RecordPdf).order_by(RecordPdf.version.desc())).first()
        assert pdf.version == 3
        text = pdf_text(pdf.content)
        assert "Session 2 of 6" in text and "Session 3 of 6" in text
    # Back at the desk: the record lists both visits, the dashboard the course.
    desk = open_device("tablet-landscape")
    _sign_in(desk, server_url)
    expect(desk.get_by_text("session 3 of 6")).to_be_visible()
    screenshot(desk, "issue18/08-dashboard-course")
    desk.goto(f"{server_url}/staff/records/{record_id}")
    expect(desk.get_by_role("heading", name="Treatment course: session 3 of 6")).to_be_visible()
    assert layout_problems(desk, patient_page=False) == []
    screenshot(desk, "issue18/09-staff-record-visits")
    for visit, seconds in timings.items():
        print(f"check-in {visit}: {seconds:.2f} s by the test's clock")
