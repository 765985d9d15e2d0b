"""A patient at the tablet, driven through Playwright by what they see: labels, roles, text."""

from playwright.sync_api import Page, expect

from ..journey import (
    FOLLOW_UP_TEXT,
    RIGHT_ANSWERS,
    SCREENING_STEPS,
    SHIPPED_DEFINITION,
    WRONG_ANSWERS,
)


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


def option_label(question_key: str, value: str) -> str:
    question = next(q for q in SHIPPED_DEFINITION.teach_back if q.key == question_key)
    return question.label_for(value)


class TabletPatient:
    def __init__(self, page: Page, base_url: str):
        self.page = page
        self.base_url = base_url

    def button(self, name: str):
        return self.page.get_by_role("button", name=name)

    def start(self):
        self.page.goto(self.base_url + "/")
        self.button("Start").click()

    def about(self, name="Rosa Tablet", dob="1962-11-02"):
        year, month, day = dob.split("-")
        self.page.get_by_label("Your full name").fill(name)
        birth = self.page.get_by_role("group", name="Your date of birth")
        birth.get_by_label("Day").fill(day)
        birth.get_by_label("Month").fill(month)
        birth.get_by_label("Year").fill(year)
        self.button("Continue").click()

    def concerns(self):
        self.page.get_by_label("Fine lines and wrinkles").check()
        self.page.get_by_label("Face", exact=True).check()
        self.page.get_by_label("What do you hope to see").fill("Softer lines around my eyes")
        self.button("Continue").click()

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
        self.button("Continue").click()

    def screening(self, *yes: str, **chosen):
        """The three screening pages: medicines, health, the skin to be treated."""
        for _ in SCREENING_STEPS:
            self.answer_page(*yes, **chosen)

    def read_on(self):
        self.button("I have read this").click()

    def risks(self):
        for box in self.page.get_by_label("I have read and understand this risk").all():
            box.check()
        self.button("Continue").click()

    def answer_teach_back(self, answers: dict[str, str]):
        for question in SHIPPED_DEFINITION.teach_back:
            if question.key in answers:
                group = self.page.get_by_role("group", name=question.question)
                group.get_by_label(option_label(question.key, answers[question.key])).check()
        self.button("Check my answers").click()

    def understanding(self):
        self.answer_teach_back(RIGHT_ANSWERS)

    def signer_self(self):
        self.page.get_by_label("I will sign for myself").check()
        self.button("Continue").click()

    def photos(self, clinical: bool = False, marketing: bool = False):
        if clinical:
            self.page.get_by_label("before-and-after photos").check()
        if marketing:
            self.page.get_by_label("to show its work").check()
        self.button("Continue").click()

    def review(self):
        self.button("My answers are right").click()

    def agree_esign(self):
        self.page.get_by_label("I agree to sign and receive my records electronically").check()
        self.button("Continue").click()

    def to_teach_back(self, **about):
        """Welcome to the check of understanding, as an ordinary eligible patient."""
        self.start()
        self.about(**about)
        self.concerns()
        self.screening()
        self.button("Continue").click()  # outcome
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
        for box in self.page.locator("#statements input[type=checkbox]").all():
            box.check()


__all__ = ["TabletPatient", "WRONG_ANSWERS", "RIGHT_ANSWERS", "draw_signature_with_touch"]
