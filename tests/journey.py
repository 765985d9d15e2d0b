"""Drives the patient flow through the test client the way the tablet does: page by page,
posting each form with the CSRF token from the page it came from."""

import json
import re
from pathlib import Path

from flask.testing import FlaskClient

from consentapp.procedures.loader import load_file

SCREENING_QUESTIONS = (
    "isotretinoin", "active_skin_problem", "skin_condition", "skin_cancer", "keloids",
    "cold_sore_history", "pregnant", "bleeding", "immune", "diabetes", "sunburn", "allergy",
    "recent_treatments",
)
RISK_KEYS = (
    "bruising", "scarring", "infection", "redness_swelling", "bleeding", "dryness",
    "pigment_change", "cold_sore_flare", "numbing_allergy", "no_guarantee",
)


SHIPPED_DEFINITION = load_file(
    Path(__file__).resolve().parent.parent / "forms" / "microneedling" / "en.toml"
).definition
SHIPPED_VERSION = SHIPPED_DEFINITION.version
# Teach-back: the right answer to each question, and a wrong one.
RIGHT_ANSWERS = {q.key: q.answer for q in SHIPPED_DEFINITION.teach_back}
WRONG_ANSWERS = {
    q.key: next(o.value for o in q.options if o.value != q.answer)
    for q in SHIPPED_DEFINITION.teach_back
}


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
            "goals": "Smoother skin on my cheeks",
            "expectations": "",
            "concerns_other": "",
        }
        data.update(overrides)
        return self.post("/step/concerns", data)

    def screening(self, *yes: str):
        answers = {key: ("yes" if key in yes else "no") for key in SCREENING_QUESTIONS}
        return self.post("/step/screening", answers)

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
        """From the alternatives page to the signature page: teach-back, who signs, photos,
        review and the agreement to sign on screen."""
        self.continue_("alternatives")
        self.understanding()
        self.signer(**signer)
        self.after_signer()

    def to_signature(
        self, *screening_yes: str, name="Maria Example", dob="1971-04-09", language=None
    ):
        """Everything up to the signature screen, answering as an ordinary eligible patient."""
        self.start(language=language)
        self.about(name=name, dob=dob)
        self.concerns()
        self.screening(*screening_yes)
        self.continue_("outcome")
        self.continue_("expect")
        self.continue_("benefits")
        self.risks()
        self.after_alternatives()
        assert self.path == "/step/sign", self.path
        return self.page

    def complete(self, *screening_yes: str, **who):
        self.to_signature(*screening_yes, **who)
        return self.sign(name=who.get("name", "Maria Example"))
