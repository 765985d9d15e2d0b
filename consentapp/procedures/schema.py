"""The shape of a procedure definition: what a TOML file under forms/ may say, strictly.

Unknown keys, missing keys and rules that point at questions that do not exist all fail
validation; the loader (procedures.loader) names the file and the key of each problem.
"""

from __future__ import annotations

from typing import Literal

from flask_babel import gettext
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..models import RecordOutcome
from .steps import RESERVED_STEP_KEYS

QuestionKind = Literal["single", "multi", "yesno", "text", "textarea"]
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
KEY_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Option(Strict):
    value: str = Field(pattern=KEY_PATTERN)
    label: str = Field(min_length=1)


class Question(Strict):
    key: str = Field(pattern=KEY_PATTERN)
    kind: QuestionKind
    label: str = Field(min_length=1)
    help: str = ""
    required: bool = True
    options: tuple[Option, ...] = ()
    max_length: int = Field(default=1000, ge=1, le=5000)

    @model_validator(mode="after")
    def _options_match_kind(self) -> Question:
        if self.kind in ("single", "multi") and len(self.options) < 2:
            raise ValueError(f"question '{self.key}' of kind '{self.kind}' needs 2+ options")
        if self.kind not in ("single", "multi") and self.options:
            raise ValueError(f"question '{self.key}' of kind '{self.kind}' takes no options")
        values = [option.value for option in self.options]
        if len(values) != len(set(values)):
            raise ValueError(f"question '{self.key}' repeats an option value")
        return self

    @property
    def choices(self) -> list[tuple[str, str]]:
        if self.kind == "yesno":
            # In the language being shown: the patient's page, or the PDF's (force_locale).
            return [("yes", gettext("Yes")), ("no", gettext("No"))]
        return [(option.value, option.label) for option in self.options]

    def label_for(self, value: str) -> str:
        return dict(self.choices).get(value, value)


class QuestionStep(Strict):
    key: str = Field(pattern=KEY_PATTERN)
    title: str = Field(min_length=1)
    intro: str = ""
    questions: tuple[Question, ...] = Field(min_length=1)


class Rule(Strict):
    """When `question`'s answer is one of `answers`, the outcome is at least `outcome`."""

    question: str = Field(pattern=KEY_PATTERN)
    answers: tuple[str, ...] = Field(min_length=1)
    outcome: RecordOutcome
    reason: str = Field(min_length=1)

    @field_validator("outcome")
    @classmethod
    def _raises_the_outcome(cls, outcome: RecordOutcome) -> RecordOutcome:
        if outcome == RecordOutcome.ELIGIBLE:
            raise ValueError("a rule raises the outcome: 'needs_review' or 'not_eligible'")
        return outcome


class OutcomeText(Strict):
    title: str = Field(min_length=1)
    message: str = Field(min_length=1)


class Outcomes(Strict):
    """What the patient is told for each RecordOutcome, under its value."""

    eligible: OutcomeText
    needs_review: OutcomeText
    not_eligible: OutcomeText


class Section(Strict):
    heading: str = Field(min_length=1)
    points: tuple[str, ...] = Field(min_length=1)


class InfoPage(Strict):
    title: str = Field(min_length=1)
    intro: str = ""
    sections: tuple[Section, ...] = Field(min_length=1)


class Risk(Strict):
    key: str = Field(pattern=KEY_PATTERN)
    name: str = Field(min_length=1)
    description: str = Field(min_length=1)


class RisksPage(Strict):
    title: str = Field(min_length=1)
    intro: str = ""
    acknowledgement: str = Field(min_length=1)
    items: tuple[Risk, ...] = Field(min_length=1)


class Statement(Strict):
    key: str = Field(pattern=KEY_PATTERN)
    text: str = Field(min_length=1)


class TeachBackQuestion(Strict):
    """A short question asked before signing, to check the patient understood (teach-back).

    A wrong answer shows `explanation` and the question is asked again.
    """

    key: str = Field(pattern=KEY_PATTERN)
    question: str = Field(min_length=1)
    options: tuple[Option, ...] = Field(min_length=2)
    answer: str = Field(pattern=KEY_PATTERN)
    explanation: str = Field(min_length=1)

    @model_validator(mode="after")
    def _answer_is_an_option(self) -> TeachBackQuestion:
        values = [option.value for option in self.options]
        if len(values) != len(set(values)):
            raise ValueError(f"teach_back '{self.key}' repeats an option value")
        if self.answer not in values:
            raise ValueError(f"teach_back '{self.key}': answer '{self.answer}' is not an option")
        return self

    def label_for(self, value: str) -> str:
        return next((o.label for o in self.options if o.value == value), value)


class Definition(Strict):
    slug: str = Field(pattern=SLUG_PATTERN)
    version: str = Field(min_length=1, max_length=32)
    language: str = Field(pattern=r"^[a-z]{2}$")
    title: str = Field(min_length=1)
    summary: str = Field(min_length=1)
    question_steps: tuple[QuestionStep, ...] = Field(min_length=1)
    screening_step: str = Field(pattern=KEY_PATTERN)
    rules: tuple[Rule, ...] = ()
    outcomes: Outcomes
    what_to_expect: InfoPage
    benefits: InfoPage
    risks: RisksPage
    alternatives: InfoPage
    consent_statements: tuple[Statement, ...] = Field(min_length=1)
    teach_back: tuple[TeachBackQuestion, ...] = ()

    @model_validator(mode="after")
    def _references_resolve(self) -> Definition:
        step_keys = [step.key for step in self.question_steps]
        if len(step_keys) != len(set(step_keys)):
            raise ValueError("two question_steps share a key")
        reserved = sorted(RESERVED_STEP_KEYS.intersection(step_keys))
        if reserved:
            raise ValueError(f"question_steps: '{reserved[0]}' is reserved for a built-in step")
        if self.screening_step not in step_keys:
            raise ValueError(f"screening_step '{self.screening_step}' is not a question step")
        questions = self.questions
        if len(questions) != sum(len(step.questions) for step in self.question_steps):
            raise ValueError("two questions share a key")
        for index, rule in enumerate(self.rules):
            question = questions.get(rule.question)
            if question is None:
                raise ValueError(f"rules[{index}].question: no question '{rule.question}'")
            allowed = {value for value, _ in question.choices}
            unknown = set(rule.answers) - allowed
            if not allowed or unknown:
                raise ValueError(
                    f"rules[{index}].answers: {sorted(unknown) or rule.answers} "
                    f"are not answers of '{rule.question}'"
                )
        for name, keys in (
            ("risks.items", [risk.key for risk in self.risks.items]),
            ("consent_statements", [s.key for s in self.consent_statements]),
            ("teach_back", [question.key for question in self.teach_back]),
        ):
            if len(keys) != len(set(keys)):
                raise ValueError(f"{name}: two entries share a key")
        return self

    @property
    def questions(self) -> dict[str, Question]:
        return {q.key: q for step in self.question_steps for q in step.questions}

    def step(self, key: str) -> QuestionStep | None:
        return next((step for step in self.question_steps if step.key == key), None)
