"""The patient's language: chosen on the welcome screen, else the browser's preference.

Staff pages stay in English; only the patient blueprint (and the PDF, which follows the
record's language) are translated. A journey, once started, speaks the language of the
definition it started with (patient/routes.py forces it), whatever the session says later.
"""

from babel import Locale, UnknownLocaleError
from flask import Flask, has_request_context, request, session
from flask_babel import get_locale

SUPPORTED = ("en", "es")
LANGUAGE_KEY = "language"
# Each language's name in that language itself: what its speaker looks for on the buttons.
OWN_NAMES = {"en": "English", "es": "Español"}


def N_(message: str) -> str:
    """Marks a text for pybabel to extract where it is defined; gettext(message) translates
    it where it is shown (in the language of that moment)."""
    return message


def select_locale() -> str:
    if not has_request_context() or request.blueprint == "staff":
        return "en"
    chosen = session.get(LANGUAGE_KEY)
    if chosen in SUPPORTED:
        return chosen
    return request.accept_languages.best_match(SUPPORTED, default="en")


def choose(language: str) -> None:
    """The patient's choice, kept in the session for the rest of their turn."""
    if language not in SUPPORTED:
        raise ValueError(f"unsupported language {language!r}")
    session[LANGUAGE_KEY] = language


def forget() -> None:
    """The turn is over: the next patient starts from the browser's own preference."""
    session.pop(LANGUAGE_KEY, None)


def english_name(language: str) -> str:
    """"Spanish" for "es": how staff pages (English only) name a record's language."""
    try:
        return Locale.parse(language).get_display_name("en")
    except (ValueError, TypeError, UnknownLocaleError):
        return language


def language_label(language: str) -> str:
    """"Spanish (Español)": the English name for staff, and the language's own beside it."""
    own = OWN_NAMES.get(language)
    name = english_name(language)
    return f"{name} ({own})" if own and own != name else name


def _page_language() -> dict:
    """Every page's <html lang> follows the language its text is in."""
    return {"page_lang": str(get_locale() or "en")}


def init_app(app: Flask) -> None:
    app.context_processor(_page_language)
