"""The WTForms base both sides build on: every text field stripped, control characters gone.

(The procedure definitions in forms/ are TOML, not WTForms: procedures/ reads them, and
patient/forms.py builds the step forms from them.)
"""

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice
from wtforms.validators import Length

# C0 control characters other than tab and newlines: never typed by a person, and
# PostgreSQL refuses NUL in text outright.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def strip_text(value):
    if not isinstance(value, str):
        return value
    return _CONTROL_CHARACTERS.sub("", value).strip()


def at_most(characters: int) -> Length:
    return Length(max=characters, message=_l(
        "Please keep this to %(characters)s characters or fewer.", characters=characters
    ))


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


class BaseForm(FlaskForm):
    """Strips surrounding whitespace from every text field, so "  " counts as empty."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            filters = unbound_field.kwargs.get("filters", [])
            if strip_text not in filters:
                unbound_field.kwargs["filters"] = [strip_text, *filters]
            return unbound_field.bind(form=form, **options)


class ContinueForm(BaseForm):
    """A CSRF-protected button and nothing else: "Continue", "Sign out", "Start over"..."""
