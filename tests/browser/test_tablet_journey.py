"""The whole journey in Chromium on a touch tablet, by visible labels and roles: signing with
a finger, a guardian signing for a minor, the keyboard alone, no JavaScript at all, the
inactivity reset, and Back after the end."""

from datetime import date

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect
from sqlalchemy import func, select

from consentapp.extensions import db
from consentapp.models import ConsentRecord, PatientDraft

from ..journey import GOALS_TEXT
from ..pdf import pdf_text
from .patient import (
    RIGHT_ANSWERS,
    WRONG_ANSWERS,
    TabletPatient,
    draw_signature_with_touch,
    every_risk_box,
    every_statement_box,
    option_label,
    walked_past,
)

pytestmark = pytest.mark.browser


def only_record(app) -> ConsentRecord:
    with app.app_context():
        record = db.session.scalars(select(ConsentRecord)).one()
        db.session.expunge(record)
        return record


def pdf_of(app, record_id: str) -> str:
    with app.app_context():
        record = db.session.get(ConsentRecord, record_id)
        return pdf_text(record.latest_pdf.content)


def drafts(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(PatientDraft))


@pytest.mark.renders_pdfs
def test_a_patient_completes_the_journey_on_a_tablet(app, server_url, tablet, screenshot):
    page = tablet
    patient = TabletPatient(page, server_url)
    patient.to_teach_back(name="Rosa Tablet", dob="1962-11-02")
    assert "Step 13 of 18" in page.content()

    # One wrong answer: its explanation shows and the question is asked again, unanswered.
    patient.answer_teach_back({**RIGHT_ANSWERS, "results_time": WRONG_ANSWERS["results_time"]})
    expect(page.get_by_text("Results build slowly.")).to_be_visible()
    first = page.get_by_role("group", name="How long until results show?")
    expect(first.get_by_role("radio", checked=True)).to_have_count(0)
    expect(page.get_by_role("link", name="Question 1: not quite")).to_be_visible()
    patient.understanding()

    patient.signer_self()
    patient.photos(clinical=True)
    expect(page.get_by_text("Rosa Tablet").first).to_be_visible()  # the review
    patient.review()
    patient.agree_esign()

    patient.tick_statements()
    expect(page.get_by_label("Type your full name")).to_have_value("Rosa Tablet")
    expect(page.get_by_label("Draw my signature with my finger")).to_be_checked()
    patient.button("Sign and finish").click()  # not signed yet
    expect(page.get_by_role("link", name="Please sign with your finger")).to_be_visible()
    expect(page.get_by_label("Type your full name")).to_have_value("Rosa Tablet")

    signature = page.locator("#signature-data")
    draw_signature_with_touch(page)
    draw_signature_with_touch(page)
    assert len(eval_strokes(page)) == 2
    patient.button("Undo").click()
    assert len(eval_strokes(page)) == 1
    patient.button("Clear").click()
    expect(signature).to_have_value("")
    expect(patient.button("Undo")).to_be_disabled()
    draw_signature_with_touch(page)
    screenshot(page, "journey/01-signature")

    with page.expect_response(lambda r: r.url.endswith("/step/sign")) as signing:
        patient.button("Sign and finish").click()
    assert signing.value.all_headers()["clear-site-data"] == '"cache", "storage"'
    expect(page.get_by_text("Please hand the tablet back")).to_be_visible()
    screenshot(page, "journey/02-done")

    record = only_record(app)
    assert record.patient_name == "Rosa Tablet"
    assert record.signature_method == "drawn"
    (stroke,) = record.signature["strokes"]
    assert len(stroke) >= 30
    assert record.representative is None and record.interpreter is None
    results = {item["key"]: item for item in record.teach_back}
    assert results["results_time"]["attempts"] == [WRONG_ANSWERS["results_time"], "months"]
    assert all(item["correct"] for item in record.teach_back)
    text = pdf_of(app, record.id)
    assert "Check of understanding" in text
    assert "The next day – not correct" in text and "About 3 to 6 months – correct" in text
    assert "The patient, Rosa Tablet" in text
    assert "drawn by hand on the tablet" in text


def eval_strokes(page) -> list:
    return page.evaluate(
        "JSON.parse(document.getElementById('signature-data').value || '{\"strokes\": []}')"
        ".strokes"
    )


@pytest.mark.renders_pdfs
def test_a_guardian_signs_for_a_minor(app, server_url, tablet, screenshot):
    page = tablet
    patient = TabletPatient(page, server_url)
    fifteen = date.today().replace(year=date.today().year - 15, day=1).isoformat()
    # The pages before are the journey test's; from the check of understanding on, by hand.
    journey = walked_past(page, server_url)
    journey.to_understanding(name="Lily Young", dob=fifteen)
    page.goto(server_url + journey.path)
    patient.understanding()

    expect(page.get_by_text("Lily Young is under 18.")).to_be_visible()
    expect(page.get_by_label("I will sign for myself")).to_have_count(0)
    patient.press("Continue")  # nobody named yet
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Please type the full name of the parent")
    expect(summary).to_contain_text("Please choose if they are a parent, guardian")
    screenshot(page, "journey/03-guardian-errors")

    page.get_by_label("Full name of the parent, guardian or legal representative").fill(
        "Ana Guardian")
    page.get_by_label("Parent", exact=True).check()
    page.get_by_label("Interpreter's full name").fill("Luis Ortega")
    page.get_by_label("Language they interpreted").fill("Spanish")
    page.get_by_label("Witness's full name").fill("Nurse Kim")
    patient.press("Continue")
    patient.photos()

    expect(page.get_by_text("Ana Guardian (Parent)")).to_be_visible()  # the review
    expect(page.get_by_text("Luis Ortega (Spanish)")).to_be_visible()
    patient.review()
    patient.agree_esign()

    expect(page.get_by_text("Ana Guardian, you are signing for Lily Young")).to_be_visible()
    expect(page.get_by_label("Type your full name")).to_have_value("Ana Guardian")
    patient.tick_statements()
    draw_signature_with_touch(page)
    screenshot(page, "journey/04-guardian-signs")
    patient.button("Sign and finish").click()
    expect(page.get_by_text("Please hand the tablet back")).to_be_visible()

    record = only_record(app)
    assert record.patient_name == "Lily Young"
    assert record.signer_name == "Ana Guardian"
    assert record.representative == {"name": "Ana Guardian", "relationship": "parent"}
    assert record.interpreter == {"name": "Luis Ortega", "language": "Spanish"}
    assert record.witness == {"name": "Nurse Kim"}
    text = pdf_of(app, record.id)
    assert "Ana Guardian, parent, on behalf of the patient Lily Young" in text
    assert "Luis Ortega, interpreting in Spanish" in text
    assert "Witness Nurse Kim" in text
    assert "Signature of Ana Guardian (parent, for Lily Young)" in text


def tab_to(page, target, limit: int = 80) -> None:
    """Press Tab until `target` has the focus, checking the focus can be seen at every stop."""
    handle = target.element_handle()
    for _ in range(limit):
        page.keyboard.press("Tab")
        assert focus_is_visible(page), page.evaluate("document.activeElement.outerHTML")
        if page.evaluate("element => document.activeElement === element", handle):
            return
    raise AssertionError(f"Tab never reached {target}")


def submit(page) -> None:
    """Enter on the focused button, and wait for the next page."""
    with page.expect_navigation():
        page.keyboard.press("Enter")


def focus_is_visible(page) -> bool:
    """The focused element, or the choice box around a focused radio or checkbox, has a
    solid outline at least 2px wide."""
    return page.evaluate(
        """() => {
          let element = document.activeElement;
          if (element.type === 'radio' || element.type === 'checkbox') {
            element = element.closest('label');
          }
          const style = getComputedStyle(element);
          return style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
        }"""
    )


@pytest.mark.renders_pdfs
def test_the_whole_journey_works_with_the_keyboard_alone(app, server_url, tablet):
    page = tablet
    role = page.get_by_role

    page.goto(server_url + "/")
    tab_to(page, role("button", name="Start"))
    submit(page)

    tab_to(page, page.get_by_label("Your full name"))
    page.keyboard.type("Kai Keys")
    for box, value in (("Month", "5"), ("Day", "7"), ("Year", "1950")):  # US English order
        tab_to(page, page.get_by_label(box))
        page.keyboard.type(value)
    tab_to(page, role("button", name="Continue"))
    submit(page)

    for choice in ("Fine lines and wrinkles", "Face"):
        tab_to(page, page.get_by_label(choice, exact=True))
        page.keyboard.press("Space")
    tab_to(page, page.get_by_label("What do you hope to see"))
    page.keyboard.type("Fewer lines")
    tab_to(page, role("button", name="Continue"))
    submit(page)

    for _page in range(3):  # the screening, three pages: No to each question
        for group in page.locator("fieldset.field--choices:visible").all():
            radios = group.get_by_role("radio")
            values = [radios.nth(i).get_attribute("value") for i in range(radios.count())]
            tab_to(page, radios.first)
            for _ in range(values.index("no")):  # arrows move the choice along the group
                page.keyboard.press("ArrowRight")
            expect(group.locator('input[value="no"]')).to_be_checked()
        tab_to(page, role("button", name="Continue"))
        submit(page)

    for button in ("Continue", "I have read this", "I have read this"):
        tab_to(page, role("button", name=button))
        submit(page)
    for box in every_risk_box(page):
        tab_to(page, box)
        page.keyboard.press("Space")
    tab_to(page, role("button", name="Continue"))
    submit(page)
    for _ in ("alternatives", "before each visit", "aftercare"):
        tab_to(page, role("button", name="I have read this"))
        submit(page)

    for question in page.get_by_role("group").all():
        radios = question.get_by_role("radio")
        labels = [radios.nth(i).get_attribute("value") for i in range(radios.count())]
        tab_to(page, radios.first)
        page.keyboard.press("Space")
        key = question.get_attribute("id")
        for _ in range(labels.index(RIGHT_ANSWERS[key])):
            page.keyboard.press("ArrowDown")
        expect(question.get_by_label(option_label(key, RIGHT_ANSWERS[key]))).to_be_checked()
    tab_to(page, role("button", name="Check my answers"))
    submit(page)

    tab_to(page, page.get_by_label("I will sign for myself"))
    page.keyboard.press("Space")
    tab_to(page, role("button", name="Continue"))
    submit(page)
    tab_to(page, page.get_by_label("before-and-after photos"))  # the photos: one of two
    page.keyboard.press("Space")
    tab_to(page, role("button", name="Continue"))
    submit(page)
    tab_to(page, role("button", name="My answers are right"))
    submit(page)
    tab_to(page, page.get_by_label("I agree to sign and receive my records electronically"))
    page.keyboard.press("Space")
    tab_to(page, role("button", name="Continue"))
    submit(page)

    for box in every_statement_box(page):
        tab_to(page, box)
        page.keyboard.press("Space")
    tab_to(page, page.get_by_label("Draw my signature with my finger"))
    page.keyboard.press("ArrowDown")  # typing the name is the keyboard's way to sign
    expect(page.get_by_label("Type my name as my signature")).to_be_checked()
    expect(page.locator("#signature-canvas")).to_be_hidden()
    expect(page.get_by_text("Your typed name is your signature.")).to_be_visible()
    tab_to(page, role("button", name="Sign and finish"))
    submit(page)
    expect(page.get_by_text("Please hand the tablet back")).to_be_visible()

    record = only_record(app)
    assert (record.patient_name, record.signer_name) == ("Kai Keys", "Kai Keys")
    assert record.signature_method == "typed" and record.signature is None
    assert (record.photo_consent["clinical"], record.photo_consent["marketing"]) == (True, False)
    assert record.esign_agreement["text"][-1] == (
        "I agree to sign and receive my records electronically.")
    text = pdf_of(app, record.id)
    assert "Signed by typing their name" in text
    assert "Signature of Kai Keys" in text


def test_every_page_works_without_javascript(app, server_url, open_device, screenshot):
    page = open_device("tablet-portrait", java_script_enabled=False)
    patient = TabletPatient(page, server_url)
    patient.to_review(name="Nora Noscript", dob="1948-02-29")
    patient.review()
    patient.agree_esign()

    # No script: no drawing pad and no choice of method; the typed name is the signature.
    expect(page.locator("#signature-canvas")).to_be_hidden()
    expect(page.get_by_label("Draw my signature with my finger")).to_be_hidden()
    expect(page.get_by_text("Your typed name is your signature.")).to_be_visible()
    expect(page.get_by_role("button", name="Read aloud")).to_have_count(0)
    screenshot(page, "journey/05-no-javascript-sign")
    patient.tick_statements()
    patient.button("Sign and finish").click()
    expect(page.get_by_text("Please hand the tablet back")).to_be_visible()

    record = only_record(app)
    assert record.patient_dob == date(1948, 2, 29)
    assert record.signature_method == "typed" and record.signer_name == "Nora Noscript"


def test_inactivity_warns_then_wipes_the_draft(app, server_url, tablet, screenshot):
    # The clinic's own limits, on the tablet's clock: idle.js reads Date.now and setInterval,
    # which Playwright's clock moves on at once (the server keeps real time, seconds here).
    warning = app.config["PATIENT_IDLE_WARNING_SECONDS"] * 1000
    reset = app.config["PATIENT_IDLE_RESET_SECONDS"] * 1000
    page = tablet
    page.clock.install()
    TabletPatient(page, server_url).start()
    page.get_by_label("Your full name").fill("Idle Ida")

    more_time = page.get_by_role("button", name="I need more time")
    page.clock.run_for(warning - 2000)
    expect(more_time).to_be_hidden()  # not yet
    page.clock.run_for(3000)
    expect(more_time).to_be_visible()
    expect(page.get_by_role("dialog", name="Are you still there?")).to_be_visible()
    more_time.click()
    expect(more_time).to_be_hidden()
    expect(page.get_by_label("Your full name")).to_have_value("Idle Ida")  # nothing lost
    assert drafts(app) == 1

    # Left alone: the warning again, then the welcome screen and no draft anywhere.
    page.clock.run_for(warning + 1000)
    expect(more_time).to_be_visible()
    page.clock.run_for(reset - warning)
    expect(page.get_by_text("we cleared the form because nobody used it")).to_be_visible()
    expect(page.get_by_role("heading", name="Welcome")).to_be_visible()
    screenshot(page, "journey/06-after-inactivity")
    assert drafts(app) == 0
    assert "Idle Ida" not in page.content()
    page.goto(server_url + "/step/about")
    assert page.url == server_url + "/"


def test_back_after_done_shows_nothing_of_the_patient(app, server_url, tablet):
    page = tablet
    patient = TabletPatient(page, server_url)
    # By hand from the check of understanding: the six pages Back goes through below.
    journey = walked_past(page, server_url)
    journey.to_understanding(name="Bea Backward", dob="1970-06-15")
    page.goto(server_url + journey.path)
    patient.understanding()
    patient.signer_self()
    patient.photos()
    patient.review()
    patient.agree_esign()
    patient.tick_statements()
    draw_signature_with_touch(page)
    patient.button("Sign and finish").click()
    expect(page.get_by_text("Please hand the tablet back")).to_be_visible()

    for _ in range(6):  # back through the sign, review, signer... pages
        try:
            page.go_back()
        except PlaywrightError as exc:
            # no-store: Chromium will not show a page from its cache.
            assert "ERR_CACHE_MISS" in str(exc)
        content = page.content()
        assert "Bea Backward" not in content
        assert GOALS_TEXT not in content
        assert "1970" not in content
    assert drafts(app) == 0


SPEECH = """
window.__spoken = [];
const voice = (name, lang, local) => ({name, lang, localService: local, default: false,
                                       voiceURI: name});
const voices = [voice('Cloud voice', 'en-US', false), voice('Tablet voice', 'en-GB', true)]
  .filter(v => !(window.__onlyRemote && v.localService));
Object.defineProperty(window, 'speechSynthesis', {value: {
  getVoices: () => voices,
  speak: (u) => { window.__spoken.push({text: u.text, voice: u.voice.name}); },
  cancel: () => { window.__spoken.push({cancel: true}); },
  addEventListener: () => {},
}});
window.SpeechSynthesisUtterance = function (text) { this.text = text; };
"""


def test_read_aloud_reads_a_section_with_the_tablets_own_voice(app, server_url, tablet,
                                                                screenshot):
    page = tablet
    page.add_init_script(SPEECH)
    patient = TabletPatient(page, server_url)
    journey = walked_past(page, server_url)
    journey.start()
    journey.about()
    journey.concerns()
    journey.screening()
    assert journey.path == "/step/outcome"
    page.goto(server_url + journey.path)
    patient.press("Continue")

    button = page.get_by_role("button", name="Read aloud: Before your treatment")
    expect(button).to_be_visible()
    screenshot(page, "journey/07-read-aloud")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    spoken = page.evaluate("window.__spoken.filter(s => s.text)")
    assert spoken == [{
        "text": "Before your treatment. We will clean your skin first. Then we put a numbing "
                "cream on your skin, such as lidocaine. The cream needs about 20 to 45 "
                "minutes to work before we start.",
        "voice": "Tablet voice",
    }]
    button.click()  # pressed again: stop
    expect(button).to_have_attribute("aria-pressed", "false")


@pytest.mark.parametrize("setup", [
    "delete window.speechSynthesis;",  # no speech synthesis at all
    "window.__onlyRemote = true;" + SPEECH,  # only voices that would send the text away
])
def test_read_aloud_is_hidden_without_a_voice_on_the_tablet(server_url, tablet, setup):
    page = tablet
    page.add_init_script(setup)
    page.goto(server_url + "/")
    expect(page.get_by_role("heading", name="Welcome")).to_be_visible()
    page.wait_for_load_state("load")
    assert page.locator("[data-read-aloud]").count() == 1
    expect(page.locator("[data-read-aloud]")).to_be_hidden()
