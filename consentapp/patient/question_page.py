"""A page of screening questions, as the first consent and a visit check-in both show it.

Which questions are on the page, which follow-ups are shown or waiting hidden, the form,
and whether a follow-up the posted answers call for was missing from the screen (without
JavaScript): then the page is shown again with it, keeping what was chosen, saving nothing.
"""

from dataclasses import dataclass

from flask import request
from flask_babel import lazy_gettext as _l

from ..procedures.eligibility import page_conditions, shown_questions
from ..procedures.schema import Definition, QuestionStep
from .forms import question_step_form

# The status line of a step shown again because an answer called for a follow-up question.
ADDED_QUESTION = _l("We added a question based on your answer. Please answer it, then press "
                    "Continue.")


@dataclass(frozen=True)
class QuestionPage:
    form: object
    on_page: list[str]
    shown: set[str]
    in_place: dict
    follow_ups: list[str]
    added: bool

    def answers(self) -> dict:
        """The answers given on this page (once the form validates), shown questions only."""
        return {k: self.form[k].data for k in self.on_page if k in self.shown}

    def accepted(self) -> bool:
        return not self.added and self.form.validate_on_submit()

    def template_context(self) -> dict:
        return dict(
            form=self.form, fields=self.on_page,
            follow_ups={k: {"condition": self.in_place.get(k), "hidden": k not in self.shown}
                        for k in self.follow_ups if k in self.on_page},
            shown=" ".join(k for k in self.follow_ups if k in self.shown),
            added=ADDED_QUESTION if self.added else None,
        )


def posted_choices(step: QuestionStep) -> dict:
    """The choices posted for the step's questions, unchecked: enough to work out which
    follow-ups the answers call for (a value that is no option simply matches nothing)."""
    posted = {}
    for question in step.questions:
        if question.kind == "multi":
            posted[question.key] = request.form.getlist(question.key)
        elif question.kind in ("single", "yesno", "yesno_unsure"):
            posted[question.key] = request.form.get(question.key)
    return posted


def question_page(
    definition: Definition, step: QuestionStep, *, earlier: dict, saved: dict, age: int | None
) -> QuestionPage:
    """`earlier`: the answers of other pages the rules read; `saved`: this page's answers
    kept so far (what a GET shows filled in)."""
    keys = [question.key for question in step.questions]
    posting = request.method == "POST"
    known = {**earlier, **(posted_choices(step) if posting else saved)}
    shown = shown_questions(definition, known, age)
    # A follow-up on a question of this page is always on it, hidden while not called for
    # (the show-if script shows it at once); one on earlier answers only is there or not.
    in_place = page_conditions(definition, step, earlier, age)
    on_page = [k for k in keys if k in shown or k in in_place]
    follow_ups = [q.key for q in step.questions if q.show_if is not None]
    form = question_step_form(step, on_page, shown)(
        data={k: saved.get(k) for k in on_page} if not posting else None
    )
    added = False
    if posting:
        rendered = set(request.form.get("shown", "").split())
        added = any(k in shown and k not in rendered for k in follow_ups)
    return QuestionPage(form, on_page, shown, in_place, follow_ups, added)
