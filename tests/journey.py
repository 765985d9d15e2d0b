"""Drives the patient flow through the test client the way the tablet does: page by page,
posting each form with the CSRF token from the page it came from."""

import json
import re
from pathlib import Path

from flask.testing import FlaskClient

from consentapp.procedures.loader import load_file

SHIPPED_DEFINITION = load_file(
    Path(__file__).resolve().parent.parent / "forms" / "microneedling" / "en.toml"
).definition
SHIPPED_VERSION = SHIPPED_DEFINITION.version
# The question steps the screening rules read after "concerns", in the order the patient
# meets them (medicines, health, the skin to be treated).
SCREENING_STEPS = tuple(step.key for step in SHIPPED_DEFINITION.screening_steps
                        if step.key != "concerns")
SCREENING_QUESTIONS = tuple(
    question.key for key in SCREENING_STEPS for question in SHIPPED_DEFINITION.step(key).questions
)
RISK_KEYS = tuple(risk.key for risk in SHIPPED_DEFINITION.risks.items)
# What a patient types into a follow-up that asks for words, and as their goals.
FOLLOW_UP_TEXT = "Vitamin D every morning"
GOALS_TEXT = "Smoother skin on my cheeks"
# Teach-back: the right answer to each question, and a wrong one.
RIGHT_ANSWERS = {q.key: q.answer for q in SHIPPED_DEFINITION.teach_back}
WRONG_ANSWERS = {
    q.key: next(o.value for o in q.options if o.value != q.answer)
    for q in SHIPPED_DEFINITION.teach_back
}


def _default(question) -> str:
    """What an ordinary patient answers: "no", or the option that means none."""
    if question.kind in ("text", "textarea"):
        return FOLLOW_UP_TEXT
    return "no" if "no" in question.values else question.values[0]


def screening_answers(*yes: str, **chosen) -> dict[str, dict]:
    """{step: {question: answer}} for the screening steps (medicines, health, screening):
    "yes" to each question in `yes`, the value given in `chosen` (isotretinoin_use="now",
    pregnant_now="not_sure"), an ordinary patient's answer to every other. A follow-up is
    answered only when the answers before it call for it, as the tablet shows it."""
    from consentapp.procedures.eligibility import shown_questions

    answers: dict = {}
    steps: dict[str, dict] = {}
    for key in SCREENING_STEPS:
        step_answers = steps.setdefault(key, {})
        for question in SHIPPED_DEFINITION.step(key).questions:
            if question.show_if is not None and question.key not in shown_questions(
                SHIPPED_DEFINITION, answers, None
            ):
                continue
            value = chosen.get(question.key, "yes" if question.key in yes else _default(question))
            answers[question.key] = step_answers[question.key] = value
    unknown = (set(yes) | set(chosen)) - set(answers)
    assert not unknown, f"not asked on the screening steps: {sorted(unknown)}"
    return steps


def all_screening_answers(*yes: str, **chosen) -> dict:
    """The same answers in one dict, as a record stores them."""
    return {key: value for step in screening_answers(*yes, **chosen).values()
            for key, value in step.items()}


def drawn_signature() -> str:
    """A zig-zag across most of a 700x220 pad, as the signature script would post it."""
    stroke = [[40 + i * 12, 110 + (40 if i % 2 else -40)] for i in range(50)]
    return json.dumps({"width": 700, "height": 220, "strokes": [stroke]})


class PatientJourney:
    def __init__(self, client: FlaskClient):
        self.client = client
        self.page = None

    # -- plumbing ------------------------------------------------------------------------
    def get(self, url: str):
        self.page = self.client.get(url, follow_redirects=True)
        return self.page

    def post(self, url: str, data: dict, follow_redirects: bool = True):
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', self.page.text)
        assert token, f"no CSRF token on the page before posting to {url}"
        self.page = self.client.post(
            url, data={**data, "csrf_token": token.group(1)}, follow_redirects=follow_redirects
        )
        return self.page

    @property
    def path(self) -> str:
        return self.page.request.path

    # -- steps ---------------------------------------------------------------------------
    def choose_language(self, language: str):
        """Press "English" or "Español" on the welcome screen."""
        self.get("/")
        return self.post("/language", {"language": language})

    def start(self, procedure: str = "microneedling", language: str | None = None):
        if language:
            self.choose_language(language)
        else:
            self.get("/")
        return self.post("/start", {"procedure": procedure})

    def about(self, name="Maria Example", dob="1971-04-09", contact=""):
        """dob as YYYY-MM-DD, typed into the day, month and year boxes."""
        year, month, day = (dob.split("-") + ["", ""])[:3] if "-" in dob else (dob, "", "")
        return self.post(
            "/step/about",
            {"full_name": name, "date_of_birth-day": day, "date_of_birth-month": month,
             "date_of_birth-year": year, "contact": contact},
        )

    def concerns(self, **overrides):
        data = {
            "concerns": ["fine_lines", "scars"],
            "areas": ["face"],
            "goals": GOALS_TEXT,
            "expectations": "",
            "concerns_other": "",
        }
        data.update(overrides)
        return self.post("/step/concerns", data)

    def screening(self, *yes: str, **chosen):
        """The three screening pages (medicines, health, the skin to be treated), each with
        its own answers (screening_answers); returns the page the last one leads to."""
        for step, answers in screening_answers(*yes, **chosen).items():
            # As the show-if script sends it: the follow-ups on the screen.
            shown = " ".join(key for key in answers
                             if SHIPPED_DEFINITION.questions[key].show_if is not None)
            self.post(f"/step/{step}", {**answers, "shown": shown})
        return self.page

    def care(self):
        """Before each visit, then aftercare and when to call: read and continue."""
        self.continue_("before_visit")
        return self.continue_("aftercare")

    def continue_(self, step: str):
        return self.post(f"/step/{step}", {})

    def risks(self, skip: tuple[str, ...] = ()):
        return self.post("/step/risks", {f"ack_{key}": "y" for key in RISK_KEYS if key not in skip})

    def understanding(self, **answers):
        return self.post("/step/understanding", {**RIGHT_ANSWERS, **answers})

    def signer(self, signer="self", **fields):
        data = {"signer": signer, "representative_name": "", "interpreter_name": "",
                "interpreter_language": "", "witness_name": ""}
        data.update(fields)
        return self.post("/step/signer", data)

    def photos(self, clinical: bool = False, marketing: bool = False):
        data = {kind: "y" for kind, given in (("clinical", clinical), ("marketing", marketing))
                if given}
        return self.post("/step/photos", data)

    def esign(self, agree: bool = True):
        return self.post("/step/esign", {"agree": "y"} if agree else {})

    def after_signer(self, clinical: bool = False, marketing: bool = False):
        """From the photo consents to the signature page: photos, review, signing on screen."""
        self.photos(clinical=clinical, marketing=marketing)
        self.continue_("review")
        return self.esign()

    def sign(
        self, name="Maria Example", signature=None, skip_statements: tuple[str, ...] = (),
        method="drawn",
    ):
        statements = re.findall(r'name="(agree_[a-z_]+)"', self.page.text)
        data = {key: "y" for key in statements if key.removeprefix("agree_") not in skip_statements}
        data["signer_name"] = name
        data["signature_method"] = method
        if method == "drawn":
            data["signature"] = drawn_signature() if signature is None else signature
        return self.post("/step/sign", data)

    def after_alternatives(self, **signer):
        """From the alternatives page to the signature page: the care pages, teach-back, who
        signs, photos, review and the agreement to sign on screen."""
        self.continue_("alternatives")
        self.care()
        self.understanding()
        self.signer(**signer)
        self.after_signer()

    def to_signature(
        self, *screening_yes: str, name="Maria Example", dob="1971-04-09", language=None,
        **chosen,
    ):
        """Everything up to the signature screen, answering as an ordinary eligible patient
        (but "yes" to each of `screening_yes`, and the answers `chosen`)."""
        self.to_understanding(*screening_yes, name=name, dob=dob, language=language, **chosen)
        self.understanding()
        self.signer()
        self.after_signer()
        assert self.path == "/step/sign", self.path
        return self.page

    def to_understanding(
        self, *screening_yes: str, name="Maria Example", dob="1971-04-09", language=None,
        **chosen,
    ):
        """Everything up to the check of understanding, as to_signature answers it."""
        self.start(language=language)
        self.about(name=name, dob=dob)
        self.concerns()
        self.screening(*screening_yes, **chosen)
        self.continue_("outcome")
        self.continue_("expect")
        self.continue_("benefits")
        self.risks()
        self.continue_("alternatives")
        self.care()
        assert self.path == "/step/understanding", self.path
        return self.page

    def complete(self, *screening_yes: str, **who):
        self.to_signature(*screening_yes, **who)
        return self.sign(name=who.get("name", "Maria Example"))
