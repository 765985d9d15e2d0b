"""Every patient page (and the staff sign-in) on a portrait tablet, a landscape tablet and a
phone: axe-core finds nothing, nothing scrolls sideways, every touch target is 44px or more,
text is 18px or more, lines stay near 70 characters, and a page weighs well under 60 KB.
Each page is also saved as a screenshot in test-artifacts/ for people to look at.

One patient walks the journey on the portrait tablet, and each page is measured at each
device's size in turn (the pages are responsive: a new size lays the page out again, as
turning a tablet does), rather than walking the same journey three times."""

import pytest
from playwright.sync_api import expect

from .checks import layout_problems
from .conftest import VIEWPORTS
from .patient import WRONG_ANSWERS, TabletPatient, draw_signature_with_touch

pytestmark = pytest.mark.browser

WALKED_ON = "tablet-portrait"


def test_every_page_fits_each_device_and_passes_axe(app, server_url, open_device, screenshot):
    page = open_device(WALKED_ON)
    patient = TabletPatient(page, server_url)
    problems: dict[str, list[str]] = {}
    number = iter(range(1, 100))

    def check(name: str, patient_page: bool = True) -> None:
        shown = f"{next(number):02d}-{name}"
        for device, size in VIEWPORTS.items():
            page.set_viewport_size(size)
            screenshot(page, f"{device}/{shown}")
            if found := layout_problems(page, patient_page=patient_page):
                problems[f"{name} ({device})"] = found
        page.set_viewport_size(VIEWPORTS[WALKED_ON])

    page.goto(server_url + "/")
    check("welcome")
    patient.press("Start")
    check("about")
    patient.press("Continue")
    check("about-errors")
    patient.about()
    check("concerns")
    patient.concerns()
    check("medicines")
    page.locator("#medicines").get_by_label("Yes", exact=True).check()
    expect(page.get_by_label("Which ones?")).to_be_visible()  # the follow-up, at once
    check("medicines-follow-up")
    patient.answer_page(medicines="yes")
    check("health")
    patient.answer_page("cold_sore_history")
    check("screening")
    patient.answer_page("keloids")
    check("outcome-needs-review-and-flag")
    patient.press("Continue")
    check("what-to-expect")
    patient.read_on()
    check("benefits")
    patient.read_on()
    check("risks")
    patient.press("Continue")
    check("risks-errors")
    patient.risks()
    check("alternatives")
    patient.read_on()
    check("before-each-visit")
    patient.read_on()
    check("aftercare")
    patient.read_on()
    check("understanding")
    patient.answer_teach_back(WRONG_ANSWERS)
    check("understanding-explained")
    patient.understanding()
    check("signer")
    patient.signer_self()
    check("photos")
    patient.photos(clinical=True)
    check("review")
    patient.review()
    check("esign")
    patient.press("Continue")
    check("esign-errors")
    patient.agree_esign()
    check("sign")
    patient.button("Sign and finish").click()
    check("sign-errors")
    patient.tick_statements()
    draw_signature_with_touch(page)
    check("sign-drawn")
    patient.button("Sign and finish").click()
    expect(page.get_by_text("Please hand the tablet back")).to_be_visible()
    check("finished")

    # The inactivity warning, opened by a short configured wait.
    app.config["PATIENT_IDLE_WARNING_SECONDS"] = 1
    patient.start()
    expect(page.get_by_role("button", name="I need more time")).to_be_visible(timeout=5000)
    check("idle-warning")
    page.get_by_role("button", name="I need more time").click()

    page.goto(server_url + "/staff/login")
    check("staff-sign-in", patient_page=False)

    assert not problems, "\n\n".join(
        f"{name}:\n" + "\n".join(found) for name, found in problems.items()
    )
