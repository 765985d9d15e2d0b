"""The shape of a procedure definition: what a TOML file under forms/ may say, strictly.

Format 2 (docs/definition-language.md) is what a clinic writes today: rules over several
answers, the age and the treatment areas, flags for the clinician, follow-up questions
(`show_if`), "Not sure" answers, and the care sections the patient takes home. Format 1 (a
file without `format`, the 1.x definitions) is still read, because every record points at
the exact definition it was signed with and is shown and re-rendered from it: its rules are
read as format 2 rules keyed by their question.

Unknown keys, missing keys and references to questions, answers or areas that do not exist
all fail validation; Definition gathers every problem it finds, each with its key path, and
the loader (procedures.loader) names the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from difflib import get_close_matches
from functools import cached_property
from typing import Any, Literal

from flask_babel import gettext
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from ..models import RuleEffect
from .conditions import MAX_DEPTH, Condition, canonical, depth, names_answer, questions_named, walk
from .steps import CHECK_IN_STEP, RESERVED_STEP_KEYS

QuestionKind = Literal["single", "multi", "yesno", "yesno_unsure", "text", "textarea"]
CHOICE_KINDS = ("single", "multi", "yesno", "yesno_unsure")
YES_NO_KINDS = ("yesno", "yesno_unsure")
NOT_SURE = "not_sure"
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
KEY_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"
CURRENT_FORMAT = 2
# The implicit "not sure" rule of question Q is keyed NOT_SURE_PREFIX + Q (a key no file can
# write: rule keys have no dot).
NOT_SURE_PREFIX = "not_sure."
# The two placeholders, each allowed only in its own line of when_to_call.
PLACEHOLDERS = {"call": "{clinic_phone}", "call_after_hours": "{after_hours_phone}"}
BRACES_PROBLEM = ("braces are only for {clinic_phone} in when_to_call.call and "
                  "{after_hours_phone} in when_to_call.call_after_hours")
# Errors of the cross-checks are gathered into one pydantic error of this type, one problem
# a line, each "key.path: what is wrong"; the loader splits them again.
PROBLEMS_ERROR = "definition_problems"


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
    # Asked only while this holds (a follow-up question); see eligibility.shown_questions.
    show_if: Condition | None = None

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
    def values(self) -> list[str]:
        """The answers a condition may test (none for text)."""
        if self.kind == "yesno":
            return ["yes", "no"]
        if self.kind == "yesno_unsure":
            return ["yes", "no", NOT_SURE]
        return [option.value for option in self.options]

    @property
    def choices(self) -> list[tuple[str, str]]:
        # In the language being shown: the patient's page, or the PDF's (force_locale).
        if self.kind == "yesno":
            return [("yes", gettext("Yes")), ("no", gettext("No"))]
        if self.kind == "yesno_unsure":
            return [("yes", gettext("Yes")), ("no", gettext("No")),
                    (NOT_SURE, gettext("Not sure"))]
        return [(option.value, option.label) for option in self.options]

    def label_for(self, value: str) -> str:
        return dict(self.choices).get(value, value)


class QuestionStep(Strict):
    key: str = Field(pattern=KEY_PATTERN)
    title: str = Field(min_length=1)
    intro: str = ""
    questions: tuple[Question, ...] = Field(min_length=1)


class Rule(Strict):
    """When `when` holds, `effect` applies: the outcome is at least "needs review" or "not
    eligible", or (a flag) the clinician is told `note` and nobody is held."""

    key: str = Field(pattern=KEY_PATTERN)
    when: Condition
    effect: RuleEffect
    # What the patient reads (outcome page, PDF), in the file's language.
    reason: str = Field(min_length=1, max_length=400)
    # What the clinician reads (record page, review queue, PDF, FHIR), in the staff's
    # language, the same in every translation.
    note: str = Field("", max_length=300)

    @property
    def implicit(self) -> bool:
        return self.key.startswith(NOT_SURE_PREFIX)


class NotSure(Strict):
    """The texts of the implicit rule every yesno_unsure question has ("not sure" -> review)."""

    reason: str = Field(min_length=1, max_length=400)
    note: str = Field(min_length=1, max_length=300)


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


class WhenToCall(Strict):
    """The signs that mean "call us", and the lines that give the clinic's numbers
    (`{clinic_phone}`, `{after_hours_phone}`: the CLINIC_PHONE and CLINIC_AFTER_HOURS_PHONE
    settings, filled in by procedures.care)."""

    title: str = Field(min_length=1)
    intro: str = ""
    points: tuple[str, ...] = Field(min_length=1)
    call: str = Field(min_length=1)
    call_after_hours: str = ""
    emergency: str = ""


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


class Course(Strict):
    """What one signed consent covers when the procedure is a series of sessions, and what a
    later visit's check-in asks again (docs/definition-language.md, section 13).

    `ask_again` names questions of the definition whose answers can change between visits;
    they are asked fresh at every check-in and, with `questions` (asked only then) and
    `rules` (read only then), the definition's own rules run again on them.
    """

    max_sessions: int = Field(ge=2, le=50)
    within_months: int = Field(ge=1, le=60)
    title: str = Field(min_length=1)
    intro: str = ""
    ask_again: tuple[str, ...] = Field(min_length=1)
    questions: tuple[Question, ...] = ()
    rules: tuple[Rule, ...] = ()
    statement: str = Field(min_length=1, max_length=400)


VERSION_PATTERN = re.compile(r"^(\d+)\.\d+\.\d+$")

# Top-level keys only format 2 knows; a file using one must say `format = 2`.
FORMAT_2_KEYS = ("areas_question", "not_sure", "before_your_visit", "aftercare", "when_to_call",
                 "course")


def _format_one_rules(rules: Any) -> Any:
    """Format 1 rules {question, answers, outcome, reason} as format 2 rules, keyed by their
    question (the records of format 1 name their reasons by question, too)."""
    if not isinstance(rules, list):
        return rules
    converted, seen = [], set()
    for rule in rules:
        if not isinstance(rule, dict):
            converted.append(rule)
            continue
        rule = dict(rule)
        question = rule.pop("question", None)
        answers = rule.pop("answers", None)
        key = question if isinstance(question, str) else "rule"
        number = 2
        while key in seen:
            key, number = f"{question}_{number}", number + 1
        seen.add(key)
        when = {name: value for name, value in (("question", question), ("answers", answers))
                if value is not None}
        new = {"key": key, "when": when}
        if "outcome" in rule:
            new["effect"] = rule.pop("outcome")
        converted.append({**new, **rule})
    return converted


class Definition(Strict):
    format: int = 1
    slug: str = Field(pattern=SLUG_PATTERN)
    version: str = Field(min_length=1, max_length=32)
    language: str = Field(pattern=r"^[a-z]{2}$")
    title: str = Field(min_length=1)
    summary: str = Field(min_length=1)
    question_steps: tuple[QuestionStep, ...] = Field(min_length=1)
    screening_step: str = Field(pattern=KEY_PATTERN)
    # The question whose options are the treatment areas (areas_include reads it).
    areas_question: str | None = Field(None, pattern=KEY_PATTERN)
    rules: tuple[Rule, ...] = ()
    not_sure: NotSure | None = None
    outcomes: Outcomes
    what_to_expect: InfoPage
    benefits: InfoPage
    risks: RisksPage
    alternatives: InfoPage
    before_your_visit: InfoPage | None = None
    aftercare: InfoPage | None = None
    when_to_call: WhenToCall | None = None
    consent_statements: tuple[Statement, ...] = Field(min_length=1)
    teach_back: tuple[TeachBackQuestion, ...] = ()
    course: Course | None = None

    @model_validator(mode="before")
    @classmethod
    def _read_format(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if "format" not in data:
            early = [key for key in FORMAT_2_KEYS if key in data]
            if early:
                raise PydanticCustomError(
                    PROBLEMS_ERROR, "{problems}",
                    {"problems": "\n".join(f"{key}: needs format = 2 at the top of the file"
                                           for key in early)},
                )
            return {**data, "rules": _format_one_rules(data.get("rules", []))}
        return data

    @field_validator("format", mode="before")
    @classmethod
    def _format_number(cls, value: Any) -> Any:
        if value != CURRENT_FORMAT or isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be the number {CURRENT_FORMAT}, without quotes")
        return value

    @model_validator(mode="after")
    def _references_resolve(self) -> Definition:
        problems = list(_problems(self))
        if problems:
            raise PydanticCustomError(
                PROBLEMS_ERROR, "{problems}",
                {"problems": "\n".join(f"{path}: {message}" for path, message in problems)},
            )
        return self

    @cached_property
    def questions(self) -> dict[str, Question]:
        return {q.key: q for step in self.question_steps for q in step.questions}

    def step(self, key: str) -> QuestionStep | None:
        return next((step for step in self.question_steps if step.key == key), None)

    def step_of(self, question_key: str) -> QuestionStep | None:
        return next(
            (step for step in self.question_steps
             if any(q.key == question_key for q in step.questions)),
            None,
        )

    @property
    def screening_steps(self) -> tuple[QuestionStep, ...]:
        """The question steps the rules read: every one up to and including screening_step."""
        keys = [step.key for step in self.question_steps]
        return self.question_steps[: keys.index(self.screening_step) + 1]

    @cached_property
    def all_rules(self) -> tuple[Rule, ...]:
        """The rules in the order they are listed: the file's, then the implicit "not sure"
        rule of every yesno_unsure question whose not_sure no rule names. Worked out once per
        definition (a definition never changes once read)."""
        implicit = []
        for question in self.questions.values():
            if question.kind != "yesno_unsure" or self.not_sure is None:
                continue
            if any(names_answer(rule.when, question.key, NOT_SURE) for rule in self.rules):
                continue
            implicit.append(Rule.model_construct(
                key=f"{NOT_SURE_PREFIX}{question.key}",
                when=Condition(question=question.key, answers=(NOT_SURE,)),
                effect=RuleEffect.NEEDS_REVIEW,
                reason=self.not_sure.reason,
                note=self.not_sure.note,
            ))
        return (*self.rules, *implicit)

    @property
    def major_version(self) -> int | None:
        """The first number of `version` ("2.1.0" -> 2); None when it is not N.N.N."""
        found = VERSION_PATTERN.match(self.version)
        return int(found.group(1)) if found else None

    @cached_property
    def check_in(self) -> Definition | None:
        """The definition a visit's check-in runs its rules on: this one, with the course's
        own questions as a step just before the screening step (so the rules may read them)
        and the course's rules after the file's. None without a course."""
        if self.course is None:
            return None
        steps = list(self.question_steps)
        at = [step.key for step in steps].index(self.screening_step)
        steps.insert(at, QuestionStep.model_construct(
            key=CHECK_IN_STEP, title=self.course.title, intro=self.course.intro,
            questions=self.course.questions,
        ))
        fields = {name: getattr(self, name) for name in type(self).model_fields}
        return Definition.model_construct(**{
            **fields, "question_steps": tuple(steps),
            "rules": (*self.rules, *self.course.rules), "course": None,
        })

    def check_in_questions(self) -> tuple[Question, ...]:
        """What a check-in asks, in order: the questions asked again (in the file's order),
        then the course's own."""
        if self.course is None:
            return ()
        again = set(self.course.ask_again)
        return (*(q for q in self.questions.values() if q.key in again),
                *self.course.questions)


def _suggestion(name: str, known) -> str:
    close = get_close_matches(name, list(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _condition_problems(
    definition: Definition, condition: Condition, path: str, *,
    before: list[str] | None = None, this: str = "",
) -> Iterator[tuple[str, str]]:
    """Problems of a rule's `when` (before=None) or of the `show_if` of question `this`
    (before: the keys of the questions asked before it)."""
    for_rule = before is None
    questions = definition.questions
    screening = {q.key for step in definition.screening_steps for q in step.questions}
    if depth(condition) > MAX_DEPTH:
        yield path, (f"more than {MAX_DEPTH} levels of all / any / not inside each other; "
                     "split it into simpler rules")
    for inner_path, part in walk(condition):
        where = f"{path}{inner_path}"
        if part.form == "question":
            question = questions.get(part.question)
            if question is None:
                yield f"{where}.question", (f"no question '{part.question}'"
                                            + _suggestion(part.question, questions))
                continue
            if question.kind not in CHOICE_KINDS:
                yield f"{where}.question", (
                    f"'{part.question}' is a {question.kind} question; conditions can test "
                    "yesno, yesno_unsure, single and multi questions"
                )
                continue
            if before is not None and part.question not in before:
                yield f"{where}.question", (
                    f"'{part.question}' " + ("is this question" if part.question == this
                                             else f"comes after '{this}'")
                    + "; a follow-up can only depend on questions before it"
                )
            if for_rule and part.question not in screening:
                step = definition.step_of(part.question)
                yield f"{where}.question", (
                    f"'{part.question}' is asked in step '{step.key}', after the screening "
                    f"step '{definition.screening_step}'"
                )
            allowed = question.values
            for answer in part.answers:
                if answer not in allowed:
                    yield f"{where}.answers", (
                        f"'{answer}' is not an answer of '{part.question}' "
                        f"({', '.join(allowed)})"
                    )
        elif part.form == "areas_include":
            areas = questions.get(definition.areas_question or "")
            if areas is None or areas.kind not in ("single", "multi"):
                yield f"{where}.areas_include", ("needs areas_question at the top of the file "
                                                 "(the question whose options are the areas)")
                continue
            if before is not None and areas.key not in before:
                yield f"{where}.areas_include", (
                    f"the areas question '{areas.key}' is not asked before this question"
                )
            allowed = areas.values
            for area in part.areas_include:
                if area not in allowed:
                    yield f"{where}.areas_include", (
                        f"'{area}' is not an option of the areas question '{areas.key}' "
                        f"({', '.join(allowed)})"
                    )


def _problems(definition: Definition) -> Iterator[tuple[str, str]]:
    step_keys = [step.key for step in definition.question_steps]
    if len(step_keys) != len(set(step_keys)):
        yield "question_steps", "two steps share a key"
    reserved = sorted(RESERVED_STEP_KEYS.intersection(step_keys))
    if reserved:
        yield "question_steps", f"'{reserved[0]}' is reserved for a built-in step"
    if definition.screening_step not in step_keys:
        yield "screening_step", (f"'{definition.screening_step}' is not a question step"
                                 + _suggestion(definition.screening_step, step_keys))
        return  # everything below reads the screening steps
    questions = definition.questions
    if len(questions) != sum(len(step.questions) for step in definition.question_steps):
        yield "question_steps", "two questions share a key"
    screening = {q.key for step in definition.screening_steps for q in step.questions}
    asked: list[str] = []
    for step in definition.question_steps:
        for question in step.questions:
            path = f"question_steps[{step.key}].questions[{question.key}]"
            if question.show_if is not None:
                yield from _condition_problems(
                    definition, question.show_if, f"{path}.show_if",
                    before=list(asked), this=question.key,
                )
            if question.kind == "yesno_unsure" and question.key not in screening:
                yield path, (f"a yesno_unsure question must be asked no later than the "
                             f"screening step '{definition.screening_step}' (its \"not sure\" "
                             "leads to a review)")
            asked.append(question.key)
    if definition.areas_question is not None:
        areas = questions.get(definition.areas_question)
        if areas is None:
            yield "areas_question", (f"no question '{definition.areas_question}'"
                                     + _suggestion(definition.areas_question, questions))
        elif areas.kind not in ("single", "multi") or areas.show_if is not None:
            yield "areas_question", (f"'{areas.key}' must be a single or multi question "
                                     "that is always asked (no show_if)")
        elif areas.key not in screening:
            yield "areas_question", (f"'{areas.key}' must be asked no later than the "
                                     f"screening step '{definition.screening_step}'")
    yield from _rule_problems(definition)
    unsure = [q.key for q in questions.values() if q.kind == "yesno_unsure"]
    if unsure and definition.not_sure is None:
        yield "not_sure", f"required, because '{unsure[0]}' is a yesno_unsure question"
    if not unsure and definition.not_sure is not None:
        yield "not_sure", "only for definitions with a yesno_unsure question"
    for name, keys in (
        ("risks.items", [risk.key for risk in definition.risks.items]),
        ("consent_statements", [s.key for s in definition.consent_statements]),
        ("teach_back", [question.key for question in definition.teach_back]),
    ):
        if len(keys) != len(set(keys)):
            yield name, "two entries share a key"
    if definition.format >= CURRENT_FORMAT:
        for name in ("before_your_visit", "aftercare", "when_to_call"):
            if getattr(definition, name) is None:
                yield name, "required in format 2"
        yield from _brace_problems(definition)
    if definition.course is not None:
        yield from _course_problems(definition)


def _course_problems(definition: Definition) -> Iterator[tuple[str, str]]:
    course = definition.course
    if definition.major_version is None:
        yield "version", ("a definition with a course needs a version of three numbers, "
                          "such as 2.1.0: raising the first one ends every consent signed "
                          "with an earlier one")
    questions = definition.questions
    screening = {q.key for step in definition.screening_steps for q in step.questions}
    if len(course.ask_again) != len(set(course.ask_again)):
        yield "course.ask_again", "names a question twice"
    for key in course.ask_again:
        if key not in questions:
            yield "course.ask_again", f"no question '{key}'" + _suggestion(key, questions)
        elif key not in screening:
            yield "course.ask_again", (f"'{key}' is asked after the screening step "
                                       f"'{definition.screening_step}'; only screening "
                                       "questions are asked again")
    own = [question.key for question in course.questions]
    if len(own) != len(set(own)):
        yield "course.questions", "two questions share a key"
    for key in own:
        if key in questions:
            yield f"course.questions[{key}]", ("a question of the definition has this key; "
                                               "to ask it again, list it in ask_again")
    derived = definition.check_in
    # A check-in question may follow up any answer the record holds, or an earlier one of
    # its own.
    asked = list(questions)
    for question in course.questions:
        if question.show_if is not None:
            yield from _condition_problems(
                derived, question.show_if, f"course.questions[{question.key}].show_if",
                before=list(asked), this=question.key,
            )
        asked.append(question.key)
    rule_keys = [rule.key for rule in definition.rules]
    seen: list[str] = []
    for rule in course.rules:
        path = f"course.rules[{rule.key}]"
        if rule.key in rule_keys or rule.key in seen:
            yield f"{path}.key", f"two rules share the key '{rule.key}'"
        seen.append(rule.key)
        yield from _condition_problems(derived, rule.when, f"{path}.when")
        if not rule.note and rule.effect != RuleEffect.NOT_ELIGIBLE:
            yield f"{path}.note", f"a {rule.effect} rule needs a note for the clinician"


def _rule_problems(definition: Definition) -> Iterator[tuple[str, str]]:
    keys = [rule.key for rule in definition.rules]
    seen_conditions: dict[str, str] = {}
    for index, rule in enumerate(definition.rules):
        path = f"rules[{rule.key}]"
        if keys.index(rule.key) != index:
            yield f"{path}.key", f"two rules share the key '{rule.key}'"
        yield from _condition_problems(definition, rule.when, f"{path}.when")
        text = canonical(rule.when)
        if text in seen_conditions:
            yield f"{path}.when", f"same condition as rules[{seen_conditions[text]}]"
        seen_conditions.setdefault(text, rule.key)
        if definition.format >= CURRENT_FORMAT and not rule.note and (
            rule.effect != RuleEffect.NOT_ELIGIBLE
        ):
            yield f"{path}.note", f"a {rule.effect} rule needs a note for the clinician"


_BRACE = re.compile(r"[{}]")


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            name = item.get("key") if isinstance(item, dict) else None
            yield from _strings(item, f"{path}[{name or index}]")
    elif isinstance(value, str):
        yield path, value


def _brace_problems(definition: Definition) -> Iterator[tuple[str, str]]:
    data = definition.model_dump(by_alias=True, exclude_none=True)
    for path, text in _strings(data, ""):
        line = path.removeprefix("when_to_call.")
        placeholder = PLACEHOLDERS.get(line) if path.startswith("when_to_call.") else None
        if placeholder is None:
            if _BRACE.search(text):
                yield path, BRACES_PROBLEM
            continue
        if not text:
            continue
        if text.count(placeholder) != 1:
            yield path, f"must contain {placeholder} exactly once"
        elif _BRACE.search(text.replace(placeholder, "")):
            yield path, BRACES_PROBLEM


def definition_warnings(definition: Definition) -> list[str]:
    """What `forms check` points out without failing: "key.path: what may be wrong"."""
    warnings = []
    if definition.format < CURRENT_FORMAT:
        warnings.append(
            "format: format 1: still read, but rules cannot use all/any/not, age, areas or "
            "flags; see docs/definition-language.md"
        )
    named = [rule.when for rule in definition.rules]
    for step in definition.question_steps:
        for question in step.questions:
            if question.kind == "single" and NOT_SURE in question.values and not any(
                names_answer(when, question.key, NOT_SURE) for when in named
            ):
                warnings.append(
                    f"question_steps[{step.key}].questions[{question.key}]: option "
                    f"'{NOT_SURE}' leads to no rule; only yesno_unsure questions get the "
                    "implicit review"
                )
    questions = definition.questions
    for rule in definition.rules:
        for inner_path, part in walk(rule.when):
            question = questions.get(part.question or "")
            if part.form == "question" and question is not None and question.kind != "multi" \
                    and set(question.values) <= set(part.answers):
                warnings.append(
                    f"rules[{rule.key}].when{inner_path}.answers: lists every answer of "
                    f"'{question.key}', so it holds whenever the question is answered"
                )
    return warnings


def rule_questions(definition: Definition, rule: Rule) -> list[str]:
    """The questions a rule's condition reads (the record shows their answers by its note)."""
    return questions_named(rule.when, definition.areas_question)
