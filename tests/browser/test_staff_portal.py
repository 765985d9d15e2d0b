"""The staff portal in Chromium on a desktop: sign in, search, open a record, countersign with
a drawn signature; the idle warning and the automatic sign-out. Screenshots go to
test-artifacts/ for a person to look at."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from consentapp.extensions import db
from consentapp.models import RecordEvent, StaffUser
from consentapp.records.jobs import pending_job_for, process_pending, run_job
from consentapp.staff.passwords import hash_password

from ..conftest import STAFF_PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def desktop(new_page):
    return new_page(viewport={"width": 1280, "height": 900})


def _clinician(app, **fields):
    with app.app_context():
        db.session.add(StaffUser(
            email="dr.ruiz@example.org", full_name="Dr Ana Ruiz", role="clinician",
            password_hash=hash_password(STAFF_PASSWORD), **fields,
        ))
        db.session.commit()


def _sign_in(page, server_url):
    page.goto(server_url + "/staff/")
    page.get_by_label("Email").fill("dr.ruiz@example.org")
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.renders_pdfs
def test_dashboard_search_and_a_record_page(app, server_url, desktop, screenshot, make_record):
    from datetime import datetime

    people = [
        ("Zoë O'Brien-Núñez", "1965-07-30", ("blood_thinner",)),
        ("José Álvarez", "1980-01-01", ("diabetes",)),
        ("Maria Example", "1971-04-09", ()),
        ("Mariana López", "1990-12-24", ("sunburn",)),
        ("Søren Łukasz", "1971-04-09", ()),
        ("Grace Okafor", "1988-08-08", ("keloids",)),
    ]
    ids = {
        name: make_record(name, dob, *yes, at=datetime(2026, 3, day + 1, 9, 30))
        for day, (name, dob, yes) in enumerate(people)
    }
    with app.app_context():  # the PDF of the record this test opens (the others' can wait)
        run_job(pending_job_for(ids["Zoë O'Brien-Núñez"]).id)
    _clinician(app)
    page = desktop
    _sign_in(page, server_url)

    expect(page.get_by_role("heading", name="Consent records")).to_be_visible()
    expect(page.locator(".review-queue")).to_contain_text("Zoë O'Brien-Núñez")
    screenshot(page, "10-staff-dashboard")

    page.get_by_label("Patient name").fill("nunez")
    page.get_by_role("button", name="Search").click()
    rows = page.locator("table.table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Zoë O'Brien-Núñez")
    expect(page.get_by_label("Patient name")).to_have_value("nunez")
    assert "nunez" not in page.url  # the search was posted and kept on the server
    screenshot(page, "11-staff-dashboard-search")

    rows.first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Zoë O'Brien-Núñez")
    expect(page.get_by_role("link", name="Download PDF (version 1)")).to_be_visible()
    screenshot(page, "12-staff-record")

    page.get_by_label("Approve for treatment").check()
    page.get_by_label("Note").fill("Discussed timing with the patient's midwife; fine.")
    page.get_by_role("button", name="Record my decision").click()
    expect(page.locator(".notice")).to_contain_text("Approved for treatment.")

    expect(page.get_by_label("Your full name, as your signature")).to_have_value("Dr Ana Ruiz")
    canvas = page.locator("#signature-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    left, middle = box["x"] + 40, box["y"] + box["height"] / 2
    page.mouse.move(left, middle)
    page.mouse.down()
    for step in range(1, 30):
        page.mouse.move(left + step * 15, middle + (20 if step % 2 else -20))
    page.mouse.up()
    page.get_by_role("button", name="Countersign").click()
    expect(page.locator(".notice")).to_contain_text("Countersigned.")
    expect(page.get_by_role("link", name="Download PDF (version 3)")).to_be_visible()
    screenshot(page, "13-staff-record-after-decisions")

    with app.app_context():
        countersigned = db.session.scalars(
            select(RecordEvent).where(RecordEvent.record_id == ids["Zoë O'Brien-Núñez"],
                                      RecordEvent.kind == "countersigned")
        ).one()
        assert countersigned.details["clinician_name"] == "Dr Ana Ruiz"
        assert len(countersigned.details["signature"]["strokes"][0]) >= 20


def test_a_countersignature_drawn_on_the_pad_raises_no_page_error(
    app, server_url, desktop, make_record, page_problems
):
    """The staff pad is the patient's macro without the choice of method or Undo: it must
    start, draw, clear and send with no error on the page or in its console."""
    record_id = make_record("Maria Example")
    with app.app_context():
        process_pending()
    _clinician(app)
    page = desktop
    _sign_in(page, server_url)
    page.goto(f"{server_url}/staff/records/{record_id}")

    clear = page.get_by_role("button", name="Clear drawing")
    expect(clear).to_be_visible()
    expect(clear).to_be_disabled()  # nothing drawn yet
    expect(page.get_by_text("Drawing needs JavaScript")).to_be_hidden()
    field = page.locator("#signature-data")

    def draw(rows: int) -> None:
        canvas = page.locator("#signature-canvas")
        canvas.scroll_into_view_if_needed()
        box = canvas.bounding_box()
        left, middle = box["x"] + 40, box["y"] + box["height"] / 2
        page.mouse.move(left, middle)
        page.mouse.down()
        for step in range(1, rows):
            page.mouse.move(left + step * 15, middle + (20 if step % 2 else -20))
        page.mouse.up()

    draw(10)
    expect(clear).to_be_enabled()
    clear.click()
    expect(field).to_have_value("")
    draw(30)
    page.get_by_role("button", name="Countersign").click()
    expect(page.locator(".notice")).to_contain_text("Countersigned.")

    with app.app_context():
        countersigned = db.session.scalars(
            select(RecordEvent).where(RecordEvent.record_id == record_id,
                                      RecordEvent.kind == "countersigned")
        ).one()
        (stroke,) = countersigned.details["signature"]["strokes"]
        assert len(stroke) >= 20
    assert page_problems == []


class TestIdleLogoff:
    @pytest.fixture
    def app_config(self, app_config):
        # 4.5 seconds idle, warned 2 seconds before (never more than half the limit).
        return {**app_config, "STAFF_IDLE_MINUTES": 0.075, "STAFF_IDLE_WARNING_SECONDS": 4}

    def test_a_warning_then_the_automatic_sign_out(self, app, server_url, desktop, screenshot):
        _clinician(app)
        page = desktop
        _sign_in(page, server_url)
        warning = page.get_by_role("alertdialog", name="Are you still there?")
        expect(warning).to_be_hidden()
        expect(warning).to_be_visible(timeout=8000)
        expect(warning).to_contain_text("you will be signed out in")
        screenshot(page, "14-staff-idle-warning")

        page.get_by_role("button", name="Stay signed in").click()
        expect(warning).to_be_hidden()
        assert "/staff/login" not in page.url
        # The session went on: a new warning comes on this page, before the sign-out.
        expect(warning).to_be_visible(timeout=8000)
        assert "/staff/login" not in page.url

        page.wait_for_url("**/staff/login?next=*", timeout=15000)
        expect(page.locator(".notice")).to_contain_text(
            "You were signed out after 0.075 minutes without activity"
        )
        page.goto(server_url + "/staff/records/anything")
        assert "/staff/login" in page.url
