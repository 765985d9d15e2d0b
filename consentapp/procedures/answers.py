"""A patient's answers as text, step by step: what the review screen, the PDF and the staff
record page show, in the language of the moment (the page's, or the PDF's force_locale)."""

from flask_babel import gettext

from .schema import Definition, Question


def answer_text(question: Question, value) -> str:
    if value in (None, "", []):
        return gettext("(no answer)")
    if isinstance(value, list):
        return "; ".join(question.label_for(item) for item in value)
    if question.kind in ("single", "yesno"):
        return question.label_for(value)
    return str(value)


def answered_steps(definition: Definition, answers: dict) -> list[dict]:
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
                for question in step.questions
            ],
        }
        for step in definition.question_steps
    ]
