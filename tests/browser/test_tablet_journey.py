"""The whole journey in Chromium on a touch tablet, by visible labels, signing with a finger."""

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect
from sqlalchemy import select

from consentapp.extensions import db
from consentapp.models import ConsentRecord

pytestmark = pytest.mark.browser


def draw_signature_with_touch(page, selector: str) -> None:
    """Touch events through the DevTools protocol: the pad sees pointerType "touch"."""
    box = page.locator(selector).bounding_box()
    cdp = page.context.new_cdp_session(page)
    left, top = box["x"] + 30, box["y"] + box["height"] / 2
    points = [(left + i * 12, top + (25 if i % 2 else -25)) for i in range(40)]
    cdp.send("Input.dispatchTouchEvent",
             {"type": "touchStart", "touchPoints": [{"x": points[0][0], "y": points[0][1]}]})
    for x, y in points[1:]:
        cdp.send(
            "Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]}
        )
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def test_a_patient_completes_the_journey_on_a_tablet(app, server_url, tablet, screenshot):
    page = tablet
    page.goto(server_url + "/")
    screenshot(page, "01-welcome")
    page.get_by_role("button", name="Start").click()

    page.get_by_label("Your full name").fill("Rosa Tablet")
    page.get_by_label("Your date of birth").fill("1962-11-02")
    page.get_by_role("button", name="Continue").click()

    page.get_by_label("Fine lines and wrinkles").check()
    page.get_by_label("Face", exact=True).check()
    page.get_by_label("What do you hope to see").fill("Softer lines around my eyes")
    page.get_by_role("button", name="Continue").click()

    for fieldset in page.locator("fieldset").all():
        fieldset.get_by_label("No", exact=True).check()
    screenshot(page, "02-screening")
    page.get_by_role("button", name="Continue").click()

    assert "Step 4 of 10" in page.content()  # the screening result
    page.get_by_role("button", name="Continue").click()  # outcome
    for _ in range(2):  # what to expect, benefits
        page.get_by_role("button", name="I have read this").click()

    page.get_by_role("button", name="Continue").click()  # nothing ticked yet
    assert page.locator(".error-summary").is_visible()
    screenshot(page, "03-risks-error")
    for box in page.get_by_label("I have read and understand this risk").all():
        box.check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="I have read this").click()  # alternatives
    assert "Rosa Tablet" in page.content()  # the review
    page.get_by_role("button", name="My answers are right").click()

    for box in page.locator("input[type=checkbox]").all():
        box.check()
    page.get_by_label("Type your full name").fill("Rosa Tablet")
    page.get_by_role("button", name="Sign and finish").click()  # not signed yet
    assert "Please sign with your finger in the box." in page.content()
    assert page.get_by_label("Type your full name").input_value() == "Rosa Tablet"

    draw_signature_with_touch(page, "#signature-canvas")
    assert page.locator("#signature-data").input_value().startswith('{"width"')
    screenshot(page, "04-signature")
    page.get_by_role("button", name="Sign and finish").click()

    assert "Please hand the tablet back" in page.content()
    screenshot(page, "05-done")
    try:
        page.go_back()
    except PlaywrightError as exc:
        # no-store: Chromium will not show the signed page from its cache.
        assert "ERR_CACHE_MISS" in str(exc)
    expect(page.locator("html")).not_to_contain_text("Rosa Tablet")

    with app.app_context():
        record = db.session.scalars(select(ConsentRecord)).one()
        assert record.patient_name == "Rosa Tablet"
        strokes = record.signature["strokes"]
        assert len(strokes) == 1 and len(strokes[0]) >= 30
        assert record.latest_pdf is not None


def test_the_clear_button_empties_the_signature(app, server_url, tablet, journey):
    # Reach the signature page through the test client's cookie-free twin: the browser itself.
    page = tablet
    page.goto(server_url + "/")
    page.get_by_role("button", name="Start").click()
    page.get_by_label("Your full name").fill("Clear Test")
    page.get_by_label("Your date of birth").fill("1980-01-01")
    page.get_by_role("button", name="Continue").click()
    assert page.url.endswith("/step/concerns")
    page.goto(server_url + "/step/sign")
    assert page.url.endswith("/step/concerns")  # no skipping ahead in the browser either
