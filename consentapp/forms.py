"""WTForms classes: the fixed ones, and the ones built from a procedure definition."""

import re
from datetime import date

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    Field,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from .procedures import Question, QuestionStep, RisksPage, Statement

# C0 control characters other than tab and newlines: never typed by a person, and
# PostgreSQL refuses NUL in text outright.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _strip(value):
    if not isinstance(value, str):
        return value
    return _CONTROL_CHARACTERS.sub("", value).strip()


def at_most(characters: int) -> Length:
    return Length(max=characters, message=f"Please keep this to {characters} characters or fewer.")


class BaseForm(FlaskForm):
    """Strips surrounding whitespace from every text field, so "  " counts as empty."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            filters = unbound_field.kwargs.get("filters", [])
            if _strip not in filters:
                unbound_field.kwargs["filters"] = [_strip, *filters]
            return unbound_field.bind(form=form, **options)


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class AboutYouForm(BaseForm):
    full_name = StringField(
        "Your full name",
        validators=[DataRequired("Please type your full name."), at_most(200)],
    )
    date_of_birth = DateField(
        "Your date of birth",
        validators=[DataRequired("Please enter your date of birth, for example 1970-03-25.")],
        description="Year, month and day.",
    )
    contact = StringField(
        "Phone or email (optional)",
        validators=[Optional(), at_most(200)],
        description="Only if you want the clinic to be able to reach you.",
    )

    def validate_date_of_birth(self, field):
        today = date.today()
        if field.data > today:
            raise ValidationError("Your date of birth cannot be in the future.")
        if field.data.year < today.year - 120:
            raise ValidationError("Please check the year of your date of birth.")


def _field_for(question: Question) -> Field:
    required_message = "Please answer this question."
    validators = (
        [DataRequired(required_message)] if question.required else [Optional()]
    )
    description = question.help
    choices = [SelectChoice(value, label) for value, label in question.choices]
    if question.kind in ("single", "yesno"):
        return RadioField(
            question.label, choices=choices, validators=validators,
            description=description,
        )
    if question.kind == "multi":
        if question.required:
            validators = [DataRequired("Please choose at least one.")]
        return MultiCheckboxField(
            question.label, choices=choices, validators=validators,
            description=description,
        )
    length = at_most(question.max_length)
    field_class = TextAreaField if question.kind == "textarea" else StringField
    return field_class(
        question.label, validators=[*validators, length], description=description
    )


def question_step_form(step: QuestionStep) -> type[BaseForm]:
    """A form class with one field per question of the step, named by the question's key."""
    fields = {question.key: _field_for(question) for question in step.questions}
    return type(f"{step.key.title()}StepForm", (BaseForm,), fields)


class ContinueForm(BaseForm):
    """The pages that only explain need nothing but a CSRF-protected "Continue"."""


def risks_form(page: RisksPage) -> type[BaseForm]:
    # The risk's name is in the message so the error summary says which boxes are missing.
    fields = {
        f"ack_{risk.key}": BooleanField(
            page.acknowledgement,
            validators=[DataRequired(f"{risk.name}: please tick the box to show you have read "
                                     "and understand this risk.")],
        )
        for risk in page.items
    }
    return type("RisksForm", (BaseForm,), fields)


def sign_form(statements: tuple[Statement, ...]) -> type[BaseForm]:
    message = "Please tick this box to agree, or hand the tablet back to ask a question."
    fields: dict[str, Field] = {
        f"agree_{statement.key}": BooleanField(
            statement.text, validators=[DataRequired(message)]
        )
        for statement in statements
    }
    fields["signer_name"] = StringField(
        "Type your full name",
        validators=[DataRequired("Please type your full name."), at_most(200)],
    )
    fields["signature"] = HiddenField("Signature")
    return type("SignForm", (BaseForm,), fields)
