"""A patient's answers and screening reasons as text: what the review screen, the PDF and the
staff record page show, in the language of the moment (the page's, or the PDF's
force_locale)."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext

from .eligibility import Reason, shown_questions
from .schema import Definition, Question


def answer_text(question: Question, value) -> str:
    if value in (None, "", []):
        return gettext("(no answer)")
    if isinstance(value, list):
        return "; ".join(question.label_for(item) for item in value)
    if question.kind in ("single", "yesno", "yesno_unsure"):
        return question.label_for(value)
    return str(value)


def answered_steps(definition: Definition, answers: dict, age: int | None = None) -> list[dict]:
    """Each question step with the questions the patient was asked (a follow-up that was
    never called for is left out) and their answers."""
    shown = shown_questions(definition, answers, age)
    return [
        {
            "key": step.key,
            "title": step.title,
            "answers": [
                {
                    "key": question.key,
                    "question": question.label,
                    "answer": answer_text(question, answers.get(question.key)),
                }
                for question in step.questions if question.key in shown
            ],
        }
        for step in definition.question_steps
    ]


def for_the_patient(definition: Definition, reasons: Iterable[Reason]) -> dict:
    """The reasons as the patient reads them: {"holds": [...], "flags": [...]}, each entry
    {"text", "questions"}. The implicit "not sure" rules share one text, so it is given once,
    with the label of every question the patient was not sure about."""
    holds, flags, unsure = [], [], []
    for reason in reasons:
        if reason.not_sure:
            unsure.append(reason)
        elif reason.is_flag:
            flags.append({"text": reason.text, "questions": []})
        else:
            holds.append({"text": reason.text, "questions": []})
    if unsure:
        questions = definition.questions
        holds.append({
            "text": unsure[0].text,
            "questions": [questions[key].label for reason in unsure for key in reason.questions
                          if key in questions],
        })
    return {"holds": holds, "flags": flags}


def for_the_clinician(definition: Definition, reasons: Iterable[Reason], answers: dict,
                      age: int | None = None, *, noted_only: bool = True) -> list[dict]:
    """Every reason with a note for the clinician (flags, review and not-eligible notes; with
    noted_only=False every reason), each with the answers its rule read:
    [{"rule", "effect", "note", "reason", "answers"}]."""
    questions = definition.questions
    shown = shown_questions(definition, answers, age)
    entries = []
    for reason in reasons:
        if noted_only and not reason.note:
            continue
        entries.append({
            "rule": reason.rule,
            "effect": reason.effect,
            "note": reason.note,
            "reason": reason.text,
            "answers": [
                {"question": questions[key].label,
                 "answer": answer_text(questions[key], answers.get(key))}
                for key in reason.questions if key in questions and key in shown
            ],
        })
    return entries
