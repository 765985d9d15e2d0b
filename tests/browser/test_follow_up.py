"""A follow-up question appears the moment the answer that calls for it is chosen (show-if.js),
and goes again when the answer changes, with no error on the page or in its console; what
is sent and stored follows what is shown."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from consentapp.extensions import db
from consentapp.models import PatientDraft

from .patient import TabletPatient

pytestmark = pytest.mark.browser


def draft_answers(app) -> dict:
    with app.app_context():
        return db.session.scalars(select(PatientDraft)).one().data["answers"]


def test_a_follow_up_appears_at_once_with_javascript(app, server_url, tablet, screenshot):
    page = tablet
    patient = TabletPatient(page, server_url)
    patient.start()
    patient.about()
    patient.concerns()
    expect(patient.heading()).to_have_text("Your medicines and allergies")
    follow_up = page.get_by_label("Which ones?")
    expect(follow_up).to_be_hidden()
    url = page.url

    medicines = page.locator("#medicines")
    medicines.get_by_label("Yes", exact=True).check()
    expect(follow_up).to_be_visible()  # at once: no page was loaded
    expect(follow_up).to_be_enabled()
    assert page.url == url
    screenshot(page, "follow-up/01-shown-at-once")
    medicines.get_by_label("No", exact=True).check()
    expect(follow_up).to_be_hidden()
    expect(follow_up).to_be_disabled()  # hidden answers are never sent

    medicines.get_by_label("Yes", exact=True).check()
    follow_up.fill("Metformin")
    patient.answer_page(medicines="yes", medicines_list="Metformin")
    expect(patient.heading()).to_have_text("Your health")
    assert draft_answers(app)["medicines_list"] == "Metformin"
    # No "we added a question" page on the way: the script had shown it already.

    page.goto(server_url + "/step/medicines")  # Back, as the link at the top goes
    expect(page.get_by_label("Which ones?")).to_have_value("Metformin")
    page.locator("#medicines").get_by_label("No", exact=True).check()
    patient.press("Continue")
    expect(patient.heading()).to_have_text("Your health")
    saved = draft_answers(app)
    assert saved["medicines"] == "no" and "medicines_list" not in saved
