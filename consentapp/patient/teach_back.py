"""Teach-back: short questions that check the patient understood before they sign.

Pure functions over the draft's attempts, {question key: [option values, in order]}. A
question stays open until its latest attempt is the right answer; every attempt is kept,
because the record must show how the patient got there, not only that they got there.
"""

from ..procedures.schema import TeachBackQuestion


def add_attempts(
    questions: tuple[TeachBackQuestion, ...],
    attempts: dict[str, list[str]],
    submitted: dict[str, str],
) -> dict[str, list[str]]:
    """The attempts with this submission added; a question already answered right is kept
    as it is (it shows again, ticked, while another question is asked again)."""
    updated = {key: list(values) for key, values in attempts.items()}
    for question in questions:
        history = updated.setdefault(question.key, [])
        if history and history[-1] == question.answer:
            continue
        value = submitted.get(question.key)
        if value:
            history.append(value)
    return updated


def open_questions(
    questions: tuple[TeachBackQuestion, ...], attempts: dict[str, list[str]]
) -> list[TeachBackQuestion]:
    """The questions not yet answered right, in the definition's order."""
    return [q for q in questions if (attempts.get(q.key) or [None])[-1] != q.answer]


def for_the_record(
    questions: tuple[TeachBackQuestion, ...], attempts: dict[str, list[str]]
) -> list[dict]:
    return [
        {
            "key": question.key,
            "attempts": list(attempts.get(question.key, [])),
            "correct": (attempts.get(question.key) or [None])[-1] == question.answer,
        }
        for question in questions
    ]
