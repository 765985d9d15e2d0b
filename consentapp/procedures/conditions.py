"""Conditions: the one small language in which a rule's `when` and a question's `show_if` are
written (docs/definition-language.md, section 3).

A condition is a TOML table with exactly one of six forms: `question` (with `answers`),
`age_under`, `areas_include`, `all`, `any`, `not`. This module holds its shape (a strict
pydantic model), its meaning (holds), its canonical text (what every translation must share)
and what it refers to (the questions and answers it names). Whether those references exist is
the definition's business (schema.Definition), which knows the questions.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

FORMS = ("question", "age_under", "areas_include", "all", "any", "not")
# Deeper than this nobody can read a rule, so nobody can check it.
MAX_DEPTH = 3
MIN_AGE, MAX_AGE = 1, 120


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    question: str | None = None
    answers: tuple[str, ...] | None = None
    age_under: int | None = None
    areas_include: tuple[str, ...] | None = None
    all: tuple[Condition, ...] | None = None
    any: tuple[Condition, ...] | None = None
    not_: Condition | None = Field(None, alias="not")

    @model_validator(mode="before")
    @classmethod
    def _exactly_one_form(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise ValueError(
                'a condition is a table, such as { question = "...", answers = [...] }'
            )
        found = [form for form in FORMS if data.get(form) is not None]
        if len(found) != 1:
            raise ValueError(
                f"give exactly one of {', '.join(FORMS)}"
                + (f" (found {' and '.join(found)})" if found else " (found none)")
            )
        if "answers" in data and found != ["question"]:
            raise ValueError("answers belongs to question: { question = \"...\", answers = [...] }")
        if found == ["question"] and "answers" not in data:
            raise ValueError("question needs answers: the answers that make it hold")
        return data

    @field_validator("age_under", mode="before")
    @classmethod
    def _whole_years(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int) or not (
            MIN_AGE <= value <= MAX_AGE
        ):
            shown = f'"{value}"' if isinstance(value, str) else value
            raise ValueError(
                f"must be a whole number of years from {MIN_AGE} to {MAX_AGE} (found {shown})"
            )
        return value

    @field_validator("answers", "areas_include")
    @classmethod
    def _listed_once(cls, values: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if values is not None:
            if not values:
                raise ValueError("must list at least one value")
            if len(values) != len(set(values)):
                raise ValueError("lists a value twice")
        return values

    @field_validator("all", "any")
    @classmethod
    def _two_or_more(cls, parts: tuple | None) -> tuple | None:
        if parts is not None and len(parts) < 2:
            raise ValueError("needs two or more conditions (with one, use the condition itself)")
        return parts

    @property
    def form(self) -> str:
        return next(form for form in FORMS if getattr(self, _attribute(form)) is not None)

    @property
    def parts(self) -> tuple[Condition, ...]:
        """The conditions inside this one (none for the three simple forms)."""
        if self.all is not None:
            return self.all
        if self.any is not None:
            return self.any
        return (self.not_,) if self.not_ is not None else ()


def _attribute(form: str) -> str:
    return "not_" if form == "not" else form


@dataclass(frozen=True)
class Facts:
    """What a condition can look at: the answers of the questions shown (a hidden or
    unanswered question has none), the patient's age in whole years at the clinic's today
    (None before the date of birth is known), and which question holds the treatment areas."""

    answers: dict
    age: int | None = None
    areas_question: str | None = None


def _answered(value, allowed: tuple[str, ...]) -> bool:
    given = value if isinstance(value, list) else [value]
    return any(item in allowed for item in given if item not in (None, ""))


def holds(condition: Condition, facts: Facts) -> bool:
    form = condition.form
    if form == "question":
        return _answered(facts.answers.get(condition.question), condition.answers)
    if form == "age_under":
        return facts.age is not None and facts.age < condition.age_under
    if form == "areas_include":
        return facts.areas_question is not None and _answered(
            facts.answers.get(facts.areas_question), condition.areas_include
        )
    if form == "all":
        return all(holds(part, facts) for part in condition.all)
    if form == "any":
        return any(holds(part, facts) for part in condition.any)
    return not holds(condition.not_, facts)


def canonical(condition: Condition) -> str:
    """One text per meaning: lists sorted, so two files may list them in any order.

    all(answer(cold_sore_history:yes),areas(face))
    """
    form = condition.form
    if form == "question":
        return f"answer({condition.question}:{','.join(sorted(condition.answers))})"
    if form == "age_under":
        return f"age_under({condition.age_under})"
    if form == "areas_include":
        return f"areas({','.join(sorted(condition.areas_include))})"
    if form == "not":
        return f"not({canonical(condition.not_)})"
    return f"{form}({','.join(sorted(canonical(part) for part in condition.parts))})"


def depth(condition: Condition) -> int:
    """How many all / any / not are nested in it (0 for a simple condition)."""
    parts = condition.parts
    return 1 + max(depth(part) for part in parts) if parts else 0


def walk(condition: Condition, path: str = "") -> Iterator[tuple[str, Condition]]:
    """Every condition inside this one, itself first, each with its key path from here."""
    yield path, condition
    if condition.all is not None or condition.any is not None:
        name = "all" if condition.all is not None else "any"
        for index, part in enumerate(condition.parts):
            yield from walk(part, f"{path}.{name}[{index}]")
    elif condition.not_ is not None:
        yield from walk(condition.not_, f"{path}.not")


def questions_named(condition: Condition, areas_question: str | None = None) -> list[str]:
    """The questions the condition reads, in the order it names them (areas_include reads
    the areas question)."""
    named: list[str] = []
    for _path, part in walk(condition):
        key = part.question if part.form == "question" else (
            areas_question if part.form == "areas_include" else None
        )
        if key and key not in named:
            named.append(key)
    return named


def names_answer(condition: Condition, question: str, answer: str) -> bool:
    """Whether the condition names `answer` of `question` anywhere inside it."""
    return any(
        part.form == "question" and part.question == question and answer in part.answers
        for _path, part in walk(condition)
    )


def for_the_page(condition: Condition, facts: Facts, on_page: set[str]) -> Any:
    """The condition as the show-if script evaluates it in the browser: every part that reads
    a question on this page kept ({"q": key, "in": [...]}), every other part (earlier steps,
    the age) replaced by the server by true or false."""
    form = condition.form
    if form == "question":
        if condition.question in on_page:
            return {"q": condition.question, "in": list(condition.answers)}
        return holds(condition, facts)
    if form == "areas_include":
        if facts.areas_question in on_page:
            return {"q": facts.areas_question, "in": list(condition.areas_include)}
        return holds(condition, facts)
    if form == "age_under":
        return holds(condition, facts)
    if form == "not":
        inner = for_the_page(condition.not_, facts, on_page)
        return (not inner) if isinstance(inner, bool) else {"not": inner}
    parts = [for_the_page(part, facts, on_page) for part in condition.parts]
    return {form: parts}
