"""The order of a patient's steps and where a draft stands in it."""

from dataclasses import dataclass

from flask_babel import gettext as _

from .. import consents
from ..procedures import Definition


@dataclass(frozen=True)
class Step:
    key: str
    title: str


def steps_for(definition: Definition) -> list[Step]:
    steps = [Step("about", _("About you"))]
    for question_step in definition.question_steps:
        steps.append(Step(question_step.key, question_step.title))
        if question_step.key == definition.screening_step:
            steps.append(Step("outcome", _("Your screening result")))
    steps += [
        Step("expect", definition.what_to_expect.title),
        Step("benefits", definition.benefits.title),
        Step("risks", definition.risks.title),
        Step("alternatives", definition.alternatives.title),
    ]
    if definition.teach_back:
        steps.append(Step("understanding", _("Check your understanding")))
    steps += [
        Step("signer", _("Who is signing")),
        Step("photos", str(consents.PHOTOS_TITLE)),
        Step("review", _("Check your answers")),
        # Just before the signature: what signing on a screen means, and the agreement to it.
        Step("esign", str(consents.ESIGN_TITLE)),
        Step("sign", _("Consent and signature")),
    ]
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


# Steps after the review: they add nothing the review shows, so saving one keeps it done.
AFTER_REVIEW = frozenset({"esign"})


def done_after_saving(done: set[str], changed: str, screening_step: str) -> set[str]:
    """Which steps stay done after `changed` was saved again.

    Any change to an answer means the review must be seen again; a changed screening means
    its outcome must be seen again too.
    """
    keep = set(done) | {changed}
    if changed not in AFTER_REVIEW:
        keep.discard("review")
    if changed == screening_step:
        keep.discard("outcome")
    return keep
