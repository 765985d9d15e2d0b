"""Eligibility: a pure function from the answers, the patient's age and the areas to an
outcome with reasons, and the one place that says which questions a patient is shown.

Which answer leads where is data in the procedure definition; this module only applies the
rules. The most serious effect of the rules that hold decides (not eligible, then needs
review, then eligible); a flag never changes it, it tells the clinician something. Every rule
that holds is kept, so staff and the patient see all of them.

The age is the patient's age in whole years on the clinic's today, which the caller passes in
(age_on): nothing here reads a clock, so an outcome can be worked out again on the record's
stored date, and tested on a birthday.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..models import RecordOutcome, RuleEffect
from .conditions import Facts, for_the_page, holds
from .schema import NOT_SURE_PREFIX, Definition, QuestionStep, rule_questions

# Kept rules are listed in this order, then as the file lists them.
_LISTING = {RuleEffect.NOT_ELIGIBLE: 0, RuleEffect.NEEDS_REVIEW: 1, RuleEffect.FLAG: 2}


def age_on(date_of_birth: date, day: date) -> int:
    """Whole years on `day` (born on 29 February: a year older on 1 March in other years)."""
    had_birthday = (day.month, day.day) >= (date_of_birth.month, date_of_birth.day)
    return day.year - date_of_birth.year - (0 if had_birthday else 1)


@dataclass(frozen=True)
class Reason:
    """A rule that held: its key, its effect, what the patient reads, what the clinician
    reads, and the questions its condition reads."""

    rule: str
    effect: RuleEffect
    text: str
    note: str = ""
    questions: tuple[str, ...] = ()

    @property
    def not_sure(self) -> bool:
        """One of the implicit "not sure" rules (the patient reads their reason once)."""
        return self.rule.startswith(NOT_SURE_PREFIX)

    @property
    def is_flag(self) -> bool:
        return self.effect == RuleEffect.FLAG

    def as_dict(self) -> dict:
        """As the record stores it (ConsentRecord.outcome_reasons)."""
        return {"rule": self.rule, "effect": str(self.effect), "reason": self.text,
                "note": self.note, "questions": list(self.questions)}


@dataclass(frozen=True)
class Eligibility:
    outcome: RecordOutcome
    reasons: tuple[Reason, ...]

    @property
    def holds(self) -> tuple[Reason, ...]:
        """The reasons that raised the outcome (not eligible and needs review)."""
        return tuple(reason for reason in self.reasons if not reason.is_flag)

    @property
    def flags(self) -> tuple[Reason, ...]:
        return tuple(reason for reason in self.reasons if reason.is_flag)


def stored_reasons(stored: list[dict] | None) -> tuple[Reason, ...]:
    """A record's outcome_reasons as Reasons, whichever shape the record was written in:
    format 2 {"rule", "effect", "reason", "note", "questions"}, or the older
    {"question", "outcome", "text"} (whose rule was named by its question)."""
    reasons = []
    for item in stored or ():
        if "rule" in item:
            reasons.append(Reason(item["rule"], RuleEffect(item["effect"]), item["reason"],
                                  item.get("note", ""), tuple(item.get("questions", ()))))
        else:
            reasons.append(Reason(item["question"], RuleEffect(item["outcome"]), item["text"],
                                  "", (item["question"],)))
    return tuple(reasons)


def _facts(definition: Definition, answers: dict, age: int | None) -> Facts:
    return Facts(answers=answers, age=age, areas_question=definition.areas_question)


def shown_questions(definition: Definition, answers: dict, age: int | None) -> set[str]:
    """The keys of the questions this patient is asked: every question without `show_if`,
    and each follow-up whose condition holds on the answers to the questions shown before it
    (an answer to a hidden question counts as none). The step form, the review page, the PDF,
    the commit and the show-if script all ask this function."""
    shown: set[str] = set()
    visible: dict = {}
    for step in definition.question_steps:
        for question in step.questions:
            if question.show_if is None or holds(
                question.show_if, _facts(definition, visible, age)
            ):
                shown.add(question.key)
                if question.key in answers:
                    visible[question.key] = answers[question.key]
    return shown


def visible_answers(definition: Definition, answers: dict, age: int | None) -> dict:
    """The answers without those to questions that are hidden now (never stored)."""
    shown = shown_questions(definition, answers, age)
    return {key: value for key, value in answers.items() if key in shown}


def hidden_answers(definition: Definition, answers: dict, age: int | None) -> list[str]:
    """Keys in `answers` that are no question the patient is shown (hidden or unknown)."""
    shown = shown_questions(definition, answers, age)
    return sorted(key for key in answers if key not in shown)


def evaluate(definition: Definition, answers: dict, *, age: int | None) -> Eligibility:
    facts = _facts(definition, visible_answers(definition, answers, age), age)
    kept = []
    for rule in definition.all_rules:
        if holds(rule.when, facts):
            kept.append(Reason(rule.key, rule.effect, rule.reason, rule.note,
                               tuple(rule_questions(definition, rule))))
    kept.sort(key=lambda reason: _LISTING[reason.effect])  # stable: the file's order within
    outcome = RecordOutcome.ELIGIBLE
    for reason in kept:
        raised = reason.effect.outcome
        if raised is not None and raised.severity > outcome.severity:
            outcome = raised
    return Eligibility(outcome, tuple(kept))


def missing_required(
    definition: Definition, step: QuestionStep, answers: dict, age: int | None
) -> list[str]:
    """The step's questions that are shown and required but have no answer (a change to an
    earlier answer can bring one up: the step is then no longer done)."""
    shown = shown_questions(definition, answers, age)
    return [
        question.key for question in step.questions
        if question.key in shown and question.required and answers.get(question.key) in (
            None, "", [],
        )
    ]


def page_conditions(
    definition: Definition, step: QuestionStep, answers: dict, age: int | None
) -> dict[str, object]:
    """For each follow-up of `step` that depends on a question of the same page: its
    condition for the show-if script (procedures.conditions.for_the_page), the parts that
    read earlier steps or the age already settled from `answers` and `age`."""
    on_page = {question.key for question in step.questions}
    facts = _facts(definition, answers, age)
    found = {}
    for question in step.questions:
        if question.show_if is None:
            continue
        payload = for_the_page(question.show_if, facts, on_page)
        if not isinstance(payload, bool):
            found[question.key] = payload
    return found
