"""The staff side's forms. The audit filter is read from the query string (no CSRF: it
changes nothing, and holds no patient data); the dashboard's search is posted, since it
holds names and birth dates (staff/saved_search.py); every form that changes something is a
CSRF-protected POST."""

from datetime import date

from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, DateRange, EqualTo, InputRequired, Length, Optional

from ..i18n import SUPPORTED, language_label
from ..models import EventKind
from ..records.search import Sort
from ..webforms import BaseForm, at_most, choices
from .labels import COURSE_FILTER_LABELS, ROLE_LABELS, SORT_LABELS, STATUS_LABELS


class LoginForm(BaseForm):
    email = EmailField(
        "Email", validators=[DataRequired("Please enter your email."), at_most(254)]
    )
    password = PasswordField(
        "Password", validators=[DataRequired("Please enter your password."), at_most(200)]
    )


class QueryForm(BaseForm):
    class Meta:
        csrf = False


# Dates a person means. Far outside them a day's start in the clinic's time zone is past
# what Python's dates (and the databases) hold: 9999-12-31 plus a day, or 0001-01-01 east of
# UTC, overflowed into a 500.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2199, 12, 31)


def sensible_date() -> DateRange:
    return DateRange(min=FIRST_DAY, max=LAST_DAY, message=(
        f"Please enter a date between {FIRST_DAY.year} and {LAST_DAY.year}."
    ))


def _check_date_range(form, start, end) -> bool:
    if start.data and end.data and start.data > end.data:
        end.errors.append("The end date must be on or after the start date.")
        return False
    return True


class DashboardFilterForm(BaseForm):
    """Posted (CSRF-protected like every post), then kept as a saved search."""

    q = StringField("Patient name", validators=[Optional(), Length(max=200)])
    dob = DateField("Date of birth", validators=[Optional(), sensible_date()])
    date_from = DateField("Completed from", validators=[Optional(), sensible_date()])
    date_to = DateField("Completed to", validators=[Optional(), sensible_date()])
    procedure = SelectField("Procedure", validators=[Optional()], validate_choice=False)
    status = SelectField(
        "Status", choices=choices([("", "Any status"), *STATUS_LABELS.items()]),
        validators=[Optional()],
    )
    course = SelectField(
        "Course", choices=choices([("", "Any"), *COURSE_FILTER_LABELS.items()]),
        validators=[Optional()],
    )
    sort = SelectField("Sort by", choices=choices(SORT_LABELS.items()), default=Sort.NEWEST,
                       validators=[Optional()])

    def validate(self, extra_validators=None) -> bool:
        return super().validate(extra_validators) & _check_date_range(
            self, self.date_from, self.date_to
        )


class AuditFilterForm(QueryForm):
    who = SelectField("Who", validators=[Optional()], validate_choice=False)
    kind = SelectField("What", validators=[Optional()], validate_choice=False)
    date_from = DateField("From", validators=[Optional(), sensible_date()])
    date_to = DateField("To", validators=[Optional(), sensible_date()])

    def validate(self, extra_validators=None) -> bool:
        return super().validate(extra_validators) & _check_date_range(
            self, self.date_from, self.date_to
        )


class ReviewForm(BaseForm):
    decision = RadioField(
        "Your decision",
        choices=choices([(EventKind.APPROVED, "Approve for treatment"),
                         (EventKind.DECLINED, "Decline: do not treat")]),
        validators=[InputRequired("Please choose approve or decline.")],
    )
    note = TextAreaField(
        "Note", validators=[DataRequired("Please write a short note explaining the decision."),
                            Length(max=2000)],
        description="Kept with the record and printed on its PDF.",
    )


class CountersignForm(BaseForm):
    clinician_name = StringField(
        "Your full name, as your signature",
        validators=[DataRequired("Please type your full name."), Length(max=200)],
    )
    signature = HiddenField("Drawn signature (optional)")


class WithdrawalForm(BaseForm):
    reason = TextAreaField(
        "Reason for the withdrawal",
        validators=[DataRequired("Please write the reason the patient gave, or 'none given'."),
                    Length(max=2000)],
        description="Record what the patient said. The signed PDF is kept; a new version "
        "marks the consent as withdrawn.",
    )


class PhotoWithdrawalForm(BaseForm):
    """Which photo consent the patient withdrew: the button pressed says it."""

    photo_consent = HiddenField(validators=[DataRequired()])


class HandOverForm(BaseForm):
    procedure = SelectField("Procedure", validate_choice=False,
                            validators=[DataRequired("Please choose the procedure.")])
    # The patient reads the form in this language (the welcome screen's choice is skipped);
    # a missing answer means English, as before there was a choice.
    language = RadioField(
        "The patient's language",
        choices=[SelectChoice(code, language_label(code)) for code in SUPPORTED],
        default="en",
    )


class PasswordChangeForm(BaseForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired("Please enter your current password."),
                                        Length(max=200)],
    )
    new_password = PasswordField(
        "New password", validators=[DataRequired("Please choose a new password.")],
        description="At least 12 characters. A few unrelated words make a good password.",
    )
    confirm = PasswordField(
        "New password again",
        validators=[DataRequired("Please type the new password again."),
                    EqualTo("new_password", "The two new passwords are not the same.")],
    )


class StaffAccountForm(BaseForm):
    email = EmailField("Email", validators=[DataRequired("Please enter the person's email."),
                                            Length(max=254)])
    full_name = StringField("Full name", validators=[DataRequired("Please enter their full name."),
                                                     Length(max=200)])
    role = RadioField("Role", choices=choices(ROLE_LABELS.items()),
                      validators=[InputRequired("Please choose a role.")])


class VerifyPdfForm(BaseForm):
    pdf = FileField("PDF file to check", validators=[FileRequired("Choose a PDF file to check.")])


class StaffEditForm(BaseForm):
    full_name = StringField("Full name", validators=[DataRequired("Please enter their full name."),
                                                     Length(max=200)])
    role = RadioField("Role", choices=choices(ROLE_LABELS.items()),
                      validators=[InputRequired("Please choose a role.")])
