"""Plain language: every patient-facing text in a definition reads at US grade 8 or below
(Flesch-Kincaid, as textstat computes it), one section at a time, as the patient meets it."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import textstat

from consentapp.procedures import Definition, definition_files, load_file

FORMS = Path(__file__).resolve().parent.parent / "forms"
MAX_GRADE = 8.0
# Strings in a definition that are names for the program, never shown to a patient.
IDENTIFIERS = {
    "slug", "version", "language", "key", "kind", "value", "answer", "screening_step",
}
RULE_IDENTIFIERS = {"question", "answers", "outcome"}


def _sentences(*parts: str) -> str:
    """Parts as the patient reads them: each a sentence of its own (a heading, a label)."""
    return " ".join(
        part if part.rstrip().endswith((".", "?", "!", ":")) else f"{part}."
        for part in parts if part
    )


def sections(definition: Definition) -> Iterator[tuple[str, str]]:
    """(where, text) for each block of text a patient meets on one screen."""
    yield "summary", definition.summary
    for step in definition.question_steps:
        yield f"{step.key} (title and intro)", _sentences(step.title, step.intro)
        for question in step.questions:
            yield f"{step.key}.{question.key}", _sentences(
                question.label, question.help, *(option.label for option in question.options)
            )
    for index, rule in enumerate(definition.rules):
        yield f"rules[{index}] ({rule.question})", rule.reason
    for outcome in ("eligible", "needs_review", "not_eligible"):
        text = getattr(definition.outcomes, outcome)
        yield f"outcomes.{outcome}", _sentences(text.title, text.message)
    for name in ("what_to_expect", "benefits", "alternatives"):
        page = getattr(definition, name)
        yield f"{name} (title and intro)", _sentences(page.title, page.intro)
        for section in page.sections:
            yield f"{name}: {section.heading}", _sentences(section.heading, *section.points)
    risks = definition.risks
    yield "risks (title and intro)", _sentences(risks.title, risks.intro, risks.acknowledgement)
    for risk in risks.items:
        yield f"risks.{risk.key}", _sentences(risk.name, risk.description)
    yield "consent_statements", _sentences(*(s.text for s in definition.consent_statements))
    for question in definition.teach_back:
        yield f"teach_back.{question.key}", _sentences(
            question.question, *(option.label for option in question.options),
            question.explanation,
        )


def _patient_strings(value, path: tuple = ()) -> Iterator[tuple[tuple, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in IDENTIFIERS or (path[:1] == ("rules",) and key in RULE_IDENTIFIERS):
                continue
            yield from _patient_strings(item, (*path, key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _patient_strings(item, (*path, index))
    elif isinstance(value, str) and value:
        yield path, value


ENGLISH = [path for path in definition_files(FORMS) if path.stem == "en"]


@pytest.fixture(params=ENGLISH, ids=lambda path: path.parent.name)
def definition(request) -> Definition:
    return load_file(request.param).definition


def test_every_section_reads_at_grade_8_or_below(definition):
    grades = {where: textstat.flesch_kincaid_grade(text) for where, text in sections(definition)}
    too_hard = {where: grade for where, grade in grades.items() if grade > MAX_GRADE}
    assert not too_hard, f"above grade {MAX_GRADE}: {too_hard}"


def test_the_sections_cover_every_patient_facing_text(definition):
    checked = " ".join(text for _, text in sections(definition))
    missed = [
        (".".join(map(str, path)), text)
        for path, text in _patient_strings(definition.model_dump())
        if text not in checked
    ]
    assert not missed


def test_the_grade_check_would_catch_hard_text():
    """The measure itself: a sentence from a typical consent form is far above grade 8."""
    legalese = (
        "The undersigned acknowledges comprehensive understanding of potential complications, "
        "including hyperpigmentation, post-inflammatory erythema and iatrogenic infection."
    )
    assert textstat.flesch_kincaid_grade(legalese) > 15
    assert textstat.flesch_kincaid_grade("We will clean your skin first.") < MAX_GRADE
