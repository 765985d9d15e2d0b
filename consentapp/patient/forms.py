"""The patient's forms: the fixed ones, and the ones built from a procedure definition."""

from datetime import date

from flask import current_app
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    Field,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.utils import unset_value
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    StopValidation,
    ValidationError,
)

from ..models import PhotoKind, SignatureMethod
from ..procedures import consents
from ..procedures.schema import Question, QuestionStep, RisksPage, Statement, TeachBackQuestion
from ..records.labels import RELATIONSHIP_LABELS
from ..records.signature import Signature, SignatureError, parse
from ..webforms import BaseForm, at_most
from .signers import SignerChoice


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class DatePartsField(Field):
    """A date typed in three boxes, in the order the patient's language writes a date: month,
    day, year in US English; day, month, year in Spanish (named NAME-day, NAME-month,
    NAME-year whatever their order). Unlike a date picker it reads the same on every tablet,
    whatever its language settings, and nobody has to scroll back through decades."""

    PARTS = ("day", "month", "year")
    # The order of the boxes by language; any other language writes the day first.
    ORDERS = {"en": ("month", "day", "year")}
    INVALID = _l("Please check the date. For example: 3 25 1970.")

    @property
    def order(self) -> tuple[str, ...]:
        return self.ORDERS.get(str(get_locale() or "en"), self.PARTS)

    def process(self, formdata, data=unset_value, extra_filters=None):
        self.process_errors = []
        if data is unset_value:
            data = self.default() if callable(self.default) else self.default
        self.object_data = self.data = data
        self.parts = dict.fromkeys(self.PARTS, "")
        if isinstance(data, date):
            self.parts = {"day": str(data.day), "month": str(data.month), "year": str(data.year)}
        if formdata is None:
            return
        self.parts = {part: (formdata.get(f"{self.name}-{part}") or "").strip()
                      for part in self.PARTS}
        self.raw_data = [self.parts[part] for part in self.PARTS]
        self.data = None
        if not any(self.raw_data):
            return
        try:
            self.data = date(int(self.parts["year"]), int(self.parts["month"]),
                             int(self.parts["day"]))
        except ValueError:
            self.process_errors.append(str(self.INVALID))


class AboutYouForm(BaseForm):
    full_name = StringField(
        _l("Your full name"),
        validators=[DataRequired(_l("Please type your full name.")), at_most(200)],
    )
    date_of_birth = DatePartsField(
        # The example in the order of the boxes (the Spanish catalog writes the day first).
        _l("Your date of birth"), description=_l("For example: 3 25 1970."),
    )
    contact = StringField(
        _l("Phone or email (optional)"),
        validators=[Optional(), at_most(200)],
        description=_l("Only if you want the clinic to be able to reach you."),
    )

    def validate_date_of_birth(self, field):
        if not any(field.parts.values()):
            raise StopValidation(gettext("Please enter your date of birth."))
        if field.data is None:  # the boxes did not make a date; process_errors says why
            raise StopValidation()
        today = date.today()
        if field.data > today:
            raise ValidationError(gettext("Your date of birth cannot be in the future."))
        if field.data.year < today.year - 120:
            raise ValidationError(gettext("Please check the year of your date of birth."))


class CheckInIdentityForm(BaseForm):
    """A visit's check-in: the patient's date of birth, to match the record's."""

    date_of_birth = DatePartsField(
        _l("Your date of birth"), description=_l("For example: 3 25 1970."),
    )

    def validate_date_of_birth(self, field):
        if not any(field.parts.values()):
            raise StopValidation(gettext("Please enter your date of birth."))
        if field.data is None:
            raise StopValidation()


def _field_for(question: Question, shown: bool = True) -> Field:
    """The field of one question. A question hidden now (a follow-up whose condition does not
    hold) is on the page only to appear when it does: it validates nothing, and its answer
    is never kept."""
    required_message = gettext("Please answer this question.")
    validators = (
        [DataRequired(required_message)] if question.required and shown else [Optional()]
    )
    description = question.help
    choices = [SelectChoice(value, label) for value, label in question.choices]
    if question.kind in ("single", "yesno", "yesno_unsure"):
        return RadioField(
            question.label, choices=choices, validators=validators,
            description=description, validate_choice=shown,
        )
    if question.kind == "multi":
        if question.required and shown:
            validators = [DataRequired(gettext("Please choose at least one."))]
        return MultiCheckboxField(
            question.label, choices=choices, validators=validators,
            description=description, validate_choice=shown,
        )
    length = at_most(question.max_length)
    field_class = TextAreaField if question.kind == "textarea" else StringField
    return field_class(
        question.label, validators=[*validators, length] if shown else [],
        description=description,
    )


def question_step_form(
    step: QuestionStep, on_page: list[str], shown: set[str]
) -> type[BaseForm]:
    """A form class with one field per question on the page (`on_page`), named by the
    question's key; only the `shown` ones are validated."""
    fields = {
        question.key: _field_for(question, question.key in shown)
        for question in step.questions if question.key in on_page
    }
    return type(f"{step.key.title()}StepForm", (BaseForm,), fields)


def risks_form(page: RisksPage) -> type[BaseForm]:
    # The risk's name is in the message so the error summary says which boxes are missing;
    # plain gettext, as in sign_form, so the name is escaped like any other text.
    fields = {
        f"ack_{risk.key}": BooleanField(
            page.acknowledgement,
            validators=[DataRequired(gettext(
                "%(risk)s: please tick the box to show you have read and understand this risk.",
                risk=risk.name,
            ))],
        )
        for risk in page.items
    }
    return type("RisksForm", (BaseForm,), fields)


def _opening(text: str, words: int = 6) -> str:
    """The first words of a statement, enough to say which one an error is about."""
    parts = text.split()
    return " ".join(parts[:words]) + ("…" if len(parts) > words else "")


def sign_form(statements: tuple[Statement, ...]) -> type[BaseForm]:
    """Built per request. Each message quotes its statement's opening words, because the
    error summary lists them all; plain gettext, not lazy_gettext, so the quoted text is
    escaped like any other (Flask-Babel's lazy strings count as safe HTML)."""
    fields: dict[str, Field] = {
        f"agree_{statement.key}": BooleanField(
            statement.text,
            validators=[DataRequired(gettext(
                "Please tick “%(statement)s” to agree, or hand the tablet back to ask a "
                "question.", statement=_opening(statement.text),
            ))],
        )
        for statement in statements
    }
    fields["signer_name"] = StringField(
        _l("Type your full name"),
        validators=[DataRequired(_l("Please type your full name.")), at_most(200)],
    )
    # "typed" is what a page without JavaScript sends: the drawing pad needs a script, and
    # the script switches a fresh page to "drawn" (see static/js/signature.js).
    fields["signature_method"] = RadioField(
        _l("How would you like to sign?"),
        choices=[
            SelectChoice(SignatureMethod.DRAWN, _l("Draw my signature with my finger")),
            SelectChoice(SignatureMethod.TYPED, _l("Type my name as my signature")),
        ],
        default=SignatureMethod.TYPED,
        validators=[InputRequired(_l("Please choose how you would like to sign."))],
    )
    fields["signature"] = HiddenField(_l("Signature"))
    return type("SignForm", (BaseForm,), fields)


class SignerForm(BaseForm):
    """Who signs: the patient, or a parent, guardian or legal representative for them; and
    who else took part (an interpreter, a witness). A patient under 18 cannot sign alone."""

    signer = RadioField(
        _l("Who will sign this form?"),
        choices=[
            SelectChoice(SignerChoice.SELF, _l("I will sign for myself")),
            SelectChoice(
                SignerChoice.REPRESENTATIVE,
                _l("A parent, guardian or legal representative will sign for me"),
            ),
        ],
        validators=[Optional()],
    )
    representative_name = StringField(
        _l("Full name of the parent, guardian or legal representative"),
        validators=[Optional(), Length(max=200)],
    )
    representative_relationship = RadioField(
        _l("How are they related to the patient?"),
        choices=[SelectChoice(value, label) for value, label in RELATIONSHIP_LABELS.items()],
        validators=[Optional()],
    )
    interpreter_name = StringField(
        _l("Interpreter's full name"), validators=[Optional(), Length(max=200)],
    )
    interpreter_language = StringField(
        _l("Language they interpreted"), validators=[Optional(), Length(max=100)],
        description=_l("For example: Spanish, or American Sign Language."),
    )
    witness_name = StringField(
        _l("Witness's full name"), validators=[Optional(), Length(max=200)],
    )

    def __init__(self, *args, patient_is_minor: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.patient_is_minor = patient_is_minor

    @property
    def representative_signs(self) -> bool:
        return self.patient_is_minor or self.signer.data == SignerChoice.REPRESENTATIVE

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        problems = []
        if not self.patient_is_minor and self.signer.data not in tuple(SignerChoice):
            problems.append((self.signer, _l("Please choose who will sign this form.")))
        if self.representative_signs:
            if not self.representative_name.data:
                problems.append((self.representative_name, _l(
                    "Please type the full name of the parent, guardian or legal representative."
                )))
            if self.representative_relationship.data not in RELATIONSHIP_LABELS:
                problems.append((self.representative_relationship, _l(
                    "Please choose if they are a parent, guardian or legal representative."
                )))
        if self.interpreter_name.data and not self.interpreter_language.data:
            problems.append((self.interpreter_language, _l(
                "Please type the language the interpreter used."
            )))
        if self.interpreter_language.data and not self.interpreter_name.data:
            problems.append((self.interpreter_name, _l("Please type the interpreter's name.")))
        for field, message in problems:
            field.errors = [*field.errors, message]
        return valid and not problems


def posted_signature(form) -> tuple[bool, Signature | None, str | None]:
    """A posted sign form: whether it validates, the drawn signature (None when typed), and
    what is wrong with the drawing. The drawing is checked even when a box is unticked, so
    every problem shows at once."""
    form_ok = form.validate_on_submit()
    signature, error = None, None
    if form.signature_method.data == SignatureMethod.DRAWN:
        try:
            signature = parse(form.signature.data, current_app.config["SIGNATURE_MAX_POINTS"])
        except SignatureError as exc:
            error = str(exc)
    return form_ok, signature, error


def teach_back_form(questions: tuple[TeachBackQuestion, ...]) -> type[BaseForm]:
    """One radio group per question, named by the question's key."""
    fields = {
        question.key: RadioField(
            question.question,
            choices=[SelectChoice(option.value, option.label) for option in question.options],
            validators=[InputRequired(_l("Please choose an answer."))],
        )
        for question in questions
    }
    return type("TeachBackForm", (BaseForm,), fields)


class EsignForm(BaseForm):
    """The electronic records disclosure's one required box."""

    agree = BooleanField(
        consents.ESIGN_AGREEMENT,
        validators=[DataRequired(_l(
            "Please tick the box to agree to sign on this screen, or hand the tablet back "
            "to ask for paper."
        ))],
    )


# Two optional boxes, one per PhotoKind (named by it): photos for the health record, and their
# use to show the clinic's work. Leaving both unticked is an answer too.
PhotoConsentForm = type("PhotoConsentForm", (BaseForm,), {
    kind.value: BooleanField(consents.PHOTO_CONSENTS[kind]) for kind in PhotoKind
})
