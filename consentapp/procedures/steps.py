"""The one registry of built-in steps: their keys, their order in the journey, and which kind
of handler shows each (patient/steps.py dispatches on it).

A definition's question steps come after "about", with "outcome" right after the screening
step; every other step is built in. A question step may not take a built-in step's key
(RESERVED_STEP_KEYS, checked by the schema), or it would hide that step. Also here: where a
draft stands in the journey, as pure functions of the steps and the set of steps done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask_babel import gettext as _

from . import consents

if TYPE_CHECKING:  # the schema imports RESERVED_STEP_KEYS from here
    from .schema import Definition

# The handler kind of a definition's own question steps.
QUESTION = "question"


def _always(definition: Definition) -> bool:
    return True


@dataclass(frozen=True)
class BuiltInStep:
    key: str
    # Which kind of page shows it; "info" pages show the definition's attribute `page`.
    handler: str
    title: Callable[[Definition], str]
    page: str | None = None
    # Whether the journey includes it for this definition.
    included: Callable[[Definition], bool] = _always
    # After the review: it adds nothing the review shows, so saving it again keeps the
    # review done.
    after_review: bool = False


def _info(key: str, page: str) -> BuiltInStep:
    return BuiltInStep(key, "info", lambda d: getattr(d, page).title, page=page)


ABOUT = BuiltInStep("about", "about", lambda d: _("About you"))
# Right after the definition's screening step.
OUTCOME = BuiltInStep("outcome", "outcome", lambda d: _("Your screening result"))
# After the question steps, in this order.
AFTER_QUESTIONS = (
    _info("expect", "what_to_expect"),
    _info("benefits", "benefits"),
    BuiltInStep("risks", "risks", lambda d: d.risks.title),
    _info("alternatives", "alternatives"),
    # The care the patient takes home (format 2): before each visit, then after the
    # treatment with when to call; before the teach-back, which asks about aftercare.
    BuiltInStep("before_visit", "info", lambda d: d.before_your_visit.title,
                page="before_your_visit", included=lambda d: d.before_your_visit is not None),
    BuiltInStep("aftercare", "aftercare", lambda d: d.aftercare.title,
                included=lambda d: d.aftercare is not None),
    BuiltInStep("understanding", "understanding", lambda d: _("Check your understanding"),
                included=lambda d: bool(d.teach_back)),
    BuiltInStep("signer", "signer", lambda d: _("Who is signing")),
    BuiltInStep("photos", "photos", lambda d: str(consents.PHOTOS_TITLE)),
    BuiltInStep("review", "review", lambda d: _("Check your answers")),
    # Just before the signature: what signing on a screen means, and the agreement to it.
    BuiltInStep("esign", "esign", lambda d: str(consents.ESIGN_TITLE), after_review=True),
    BuiltInStep("sign", "sign", lambda d: _("Consent and signature")),
)
BUILT_IN_STEPS = (ABOUT, OUTCOME, *AFTER_QUESTIONS)
# The question step of a visit's check-in (schema.Definition.check_in): reserved too.
CHECK_IN_STEP = "check_in"
RESERVED_STEP_KEYS = frozenset(step.key for step in BUILT_IN_STEPS) | {CHECK_IN_STEP}
# Every kind of handler the patient side must provide.
HANDLER_KINDS = frozenset({QUESTION, *(step.handler for step in BUILT_IN_STEPS)})
AFTER_REVIEW = frozenset(step.key for step in BUILT_IN_STEPS if step.after_review)


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    handler: str
    page: str | None = None


def _step(built_in: BuiltInStep, definition: Definition) -> Step:
    return Step(built_in.key, built_in.title(definition), built_in.handler, built_in.page)


def steps_for(definition: Definition) -> list[Step]:
    """The journey through `definition`, in order, each step's title in the current language."""
    steps = [_step(ABOUT, definition)]
    for question_step in definition.question_steps:
        steps.append(Step(question_step.key, question_step.title, QUESTION))
        if question_step.key == definition.screening_step:
            steps.append(_step(OUTCOME, definition))
    steps += [_step(step, definition) for step in AFTER_QUESTIONS if step.included(definition)]
    return steps


def first_incomplete(steps: list[Step], done: set[str]) -> Step:
    return next((step for step in steps if step.key not in done), steps[-1])


def may_open(steps: list[Step], done: set[str], key: str) -> bool:
    """A step may be opened once every step before it is done: nobody skips to the signature."""
    for step in steps:
        if step.key == key:
            return True
        if step.key not in done:
            return False
    return False


def screening_inputs(definition: Definition) -> set[str]:
    """The steps whose answers the screening rules read: "about" (the age) and every
    question step up to and including the screening step."""
    return {ABOUT.key, *(step.key for step in definition.screening_steps)}


def done_after_saving(done: set[str], changed: str, screening_step: str) -> set[str]:
    """Which steps stay done after `changed` was saved again.

    Any change to an answer means the review must be seen again; the screening saved again
    means its outcome must be seen again too (and so does any change to another step the
    rules read that changes the outcome: the step's handler knows that, see
    patient/steps.py).
    """
    keep = set(done) | {changed}
    if changed not in AFTER_REVIEW:
        keep.discard("review")
    if changed == screening_step:
        keep.discard(OUTCOME.key)
    return keep
