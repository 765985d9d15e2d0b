"""A patient at the tablet, driven through Playwright by what they see: labels, roles, text."""

from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from playwright.sync_api import Locator, Page, expect

from ..journey import (
    FOLLOW_UP_TEXT,
    RIGHT_ANSWERS,
    SCREENING_STEPS,
    SHIPPED_DEFINITION,
    WRONG_ANSWERS,
    PatientJourney,
)


@dataclass(frozen=True)
class _Request:
    path: str


@dataclass(frozen=True)
class _Answer:
    """What PatientJourney reads of a response: the page's text and where it ended up."""

    text: str
    request: _Request


class TabletHttp:
    """The tablet's own HTTP requests, shaped like Flask's test client for PatientJourney.

    They go through the browser context (`page.request`), so they carry its cookies and the
    app's answers set them there: the page the test opens next continues the same draft. For
    the steps a test walks past rather than tests; the journey test, the keyboard test and
    the layout walk go through every page by hand.
    """

    def __init__(self, page: Page, base_url: str):
        self.requests = page.request
        self.base_url = base_url

    def _answer(self, response, follow_redirects: bool) -> _Answer:
        redirected = not follow_redirects and 300 <= response.status < 400
        assert response.ok or redirected, f"{response.status} from {response.url}"
        return _Answer(response.text(), _Request(urlsplit(response.url).path))

    def get(self, url: str, follow_redirects: bool = True) -> _Answer:
        return self._answer(self.requests.get(
            self.base_url + url, max_redirects=20 if follow_redirects else 0,
        ), follow_redirects)

    def post(self, url: str, data: dict, follow_redirects: bool = True) -> _Answer:
        return self._answer(self.requests.post(
            self.base_url + url, data=urlencode(data, doseq=True),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            max_redirects=20 if follow_redirects else 0,
        ), follow_redirects)


def walked_past(page: Page, base_url: str) -> PatientJourney:
    """A PatientJourney on this tablet's cookies; open `base_url + journey.path` after it."""
    return PatientJourney(TabletHttp(page, base_url))


def draw_signature_with_touch(page: Page, selector: str = "#signature-canvas") -> None:
    """Touch events through the DevTools protocol: the pad sees pointerType "touch"."""
    pad = page.locator(selector)
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
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


def every_risk_box(page: Page) -> list[Locator]:
    """The risks page's boxes, once the page shows them all: `all()` does not wait, so
    right after a click it can still see the page before (or none), a flaky half list."""
    boxes = page.get_by_label("I have read and understand this risk")
    expect(boxes).to_have_count(len(SHIPPED_DEFINITION.risks.items))
    return boxes.all()


def every_statement_box(page: Page) -> list[Locator]:
    """The signing page's statement boxes, once they are all there (see every_risk_box)."""
    boxes = page.locator("#statements input[type=checkbox]")
    expect(boxes).to_have_count(len(SHIPPED_DEFINITION.consent_statements))
    return boxes.all()


def option_label(question_key: str, value: str) -> str:
    question = next(q for q in SHIPPED_DEFINITION.teach_back if q.key == question_key)
    return question.label_for(value)


class TabletPatient:
    def __init__(self, page: Page, base_url: str):
        self.page = page
        self.base_url = base_url

    def button(self, name: str):
        return self.page.get_by_role("button", name=name)

    def press(self, name: str) -> None:
        """Press a step's button and wait for the next page: a click returns before the
        browser leaves the page, and the next step's first look would see the old one."""
        with self.page.expect_navigation():
            self.button(name).click()

    def start(self):
        self.page.goto(self.base_url + "/")
        self.press("Start")

    def about(self, name="Rosa Tablet", dob="1962-11-02"):
        year, month, day = dob.split("-")
        self.page.get_by_label("Your full name").fill(name)
        birth = self.page.get_by_role("group", name="Your date of birth")
        birth.get_by_label("Day").fill(day)
        birth.get_by_label("Month").fill(month)
        birth.get_by_label("Year").fill(year)
        self.press("Continue")

    def concerns(self):
        self.page.get_by_label("Fine lines and wrinkles").check()
        self.page.get_by_label("Face", exact=True).check()
        self.page.get_by_label("What do you hope to see").fill("Softer lines around my eyes")
        self.press("Continue")

    def answer_page(self, *yes: str, **chosen):
        """Answer every question shown on this screening page, as an ordinary patient would
        unless `yes` or `chosen` says otherwise, then press Continue. A follow-up the
        answers call for appears (show-if.js) and is answered too."""
        step = next(key for key in SCREENING_STEPS
                    if self.page.locator(f'[name="{SHIPPED_DEFINITION.step(key).questions[0].key}"]'
                                         ).count())
        for question in SHIPPED_DEFINITION.step(step).questions:
            inputs = self.page.locator(f'[name="{question.key}"]:visible')
            if not inputs.count():
                continue  # a follow-up not called for
            if question.kind in ("text", "textarea"):
                inputs.fill(chosen.get(question.key, FOLLOW_UP_TEXT))
                continue
            value = chosen.get(question.key, "yes" if question.key in yes else (
                "no" if "no" in question.values else question.values[0]))
            label = question.label_for(value)
            self.page.locator(f"#{question.key}").get_by_label(label, exact=True).check()
        self.press("Continue")

    def screening(self, *yes: str, **chosen):
        """The three screening pages: medicines, health, the skin to be treated."""
        for _ in SCREENING_STEPS:
            self.answer_page(*yes, **chosen)

    def read_on(self):
        self.press("I have read this")

    def risks(self):
        for box in every_risk_box(self.page):
            box.check()
        self.press("Continue")

    def answer_teach_back(self, answers: dict[str, str]):
        for question in SHIPPED_DEFINITION.teach_back:
            if question.key in answers:
                group = self.page.get_by_role("group", name=question.question)
                group.get_by_label(option_label(question.key, answers[question.key])).check()
        self.press("Check my answers")

    def understanding(self):
        self.answer_teach_back(RIGHT_ANSWERS)

    def signer_self(self):
        self.page.get_by_label("I will sign for myself").check()
        self.press("Continue")

    def photos(self, clinical: bool = False, marketing: bool = False):
        if clinical:
            self.page.get_by_label("before-and-after photos").check()
        if marketing:
            self.page.get_by_label("to show its work").check()
        self.press("Continue")

    def review(self):
        self.press("My answers are right")

    def agree_esign(self):
        self.page.get_by_label("I agree to sign and receive my records electronically").check()
        self.press("Continue")

    def to_teach_back(self, **about):
        """Welcome to the check of understanding, as an ordinary eligible patient."""
        self.start()
        self.about(**about)
        self.concerns()
        self.screening()
        self.press("Continue")  # outcome
        self.read_on()  # what to expect
        self.read_on()  # benefits
        self.risks()
        self.read_on()  # alternatives
        self.read_on()  # before each visit
        self.read_on()  # after your treatment, and when to call
        expect(self.heading()).to_have_text("Check your understanding")

    def to_review(self, **about):
        self.to_teach_back(**about)
        self.understanding()
        self.signer_self()
        self.photos()
        expect(self.heading()).to_have_text("Check your answers")

    def heading(self):
        return self.page.get_by_role("heading", level=1)

    def tick_statements(self):
        for box in every_statement_box(self.page):
            box.check()


__all__ = ["TabletPatient", "every_risk_box", "every_statement_box", "WRONG_ANSWERS",
           "RIGHT_ANSWERS", "draw_signature_with_touch"]
