"""Eligibility: a pure function from screening answers to an outcome with reasons.

Which answer leads where is data in the procedure definition; this module only applies the
rules. The most serious outcome any rule reaches wins, and every matching rule's reason is
kept so staff and the patient see all of them.
"""

from dataclasses import dataclass

from ..models import RecordOutcome
from .schema import Definition


@dataclass(frozen=True)
class Reason:
    question: str
    outcome: RecordOutcome
    text: str

    def as_dict(self) -> dict[str, str]:
        return {"question": self.question, "outcome": self.outcome, "text": self.text}


@dataclass(frozen=True)
class Eligibility:
    outcome: RecordOutcome
    reasons: tuple[Reason, ...]


def evaluate(definition: Definition, answers: dict) -> Eligibility:
    outcome = RecordOutcome.ELIGIBLE
    reasons: list[Reason] = []
    for rule in definition.rules:
        given = answers.get(rule.question)
        given_values = given if isinstance(given, list) else [given]
        if not any(value in rule.answers for value in given_values):
            continue
        reasons.append(Reason(rule.question, rule.outcome, rule.reason))
        if rule.outcome.severity > outcome.severity:
            outcome = rule.outcome
    reasons.sort(key=lambda reason: -reason.outcome.severity)
    return Eligibility(outcome, tuple(reasons))
