"""The patient's language: chosen on the welcome screen, else the browser's preference.

Staff pages stay in English; only the patient blueprint (and the PDF, which follows the
record's language) are translated.
"""

from flask import Flask, has_request_context, request, session
from flask_babel import get_locale

SUPPORTED = ("en", "es")
LANGUAGE_KEY = "language"


def select_locale() -> str:
    if not has_request_context() or request.blueprint == "staff":
        return "en"
    chosen = session.get(LANGUAGE_KEY)
    if chosen in SUPPORTED:
        return chosen
    return request.accept_languages.best_match(SUPPORTED, default="en")


def _page_language() -> dict:
    """Every page's <html lang> follows the language its text is in."""
    return {"page_lang": str(get_locale() or "en")}


def init_app(app: Flask) -> None:
    app.context_processor(_page_language)
