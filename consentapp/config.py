"""Configuration: defaults, then instance/config.py, then environment variables.

Only tests and development may run without a real SECRET_KEY: a clinic's server that forgot
to set one must refuse to start rather than sign session cookies with a key anyone can guess.
"""

import os
from collections.abc import Callable
from pathlib import Path


class ConfigurationError(RuntimeError):
    """The app cannot start with the configuration it was given."""


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def default_database_uri(instance_path: str) -> str:
    return f"sqlite:///{Path(instance_path) / 'consent.sqlite3'}"


def defaults(instance_path: str) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": default_database_uri(instance_path),
        "CLINIC_NAME": "Your Clinic",
        "CLINIC_TIMEZONE": "UTC",
        "FORMS_DIR": None,
        # inline: render right after the signing transaction commits (tests);
        # thread: a background thread in each app process claims render jobs;
        # worker: only `flask --app wsgi worker` renders.
        "PDF_RENDER_MODE": "thread",
        "RATELIMIT_STORAGE_URI": "memory://",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Strict",
        "SESSION_COOKIE_SECURE": False,
        # A signature is a few thousand points; nothing a patient or staff member sends is larger.
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "BABEL_DEFAULT_LOCALE": "en",
        "SIGNATURE_MAX_POINTS": 6000,
        # A shared tablet left alone: warn after this many idle seconds, and after the reset
        # time wipe the draft and show the welcome screen (the server also refuses a draft
        # untouched for longer than the reset time).
        "PATIENT_IDLE_WARNING_SECONDS": 120,
        "PATIENT_IDLE_RESET_SECONDS": 180,
        "DEVELOPMENT": False,
    }


# Config key -> (environment variable, parser). Only variables that are set override.
ENVIRONMENT: dict[str, tuple[str, Callable[[str], object]]] = {
    "SECRET_KEY": ("SECRET_KEY", str),
    "SQLALCHEMY_DATABASE_URI": ("DATABASE_URL", str),
    "CLINIC_NAME": ("CLINIC_NAME", str),
    "CLINIC_TIMEZONE": ("CLINIC_TIMEZONE", str),
    "FORMS_DIR": ("CONSENT_FORMS_DIR", str),
    "PDF_RENDER_MODE": ("PDF_RENDER_MODE", str),
    "RATELIMIT_STORAGE_URI": ("RATELIMIT_STORAGE_URI", str),
    "SESSION_COOKIE_SECURE": ("SESSION_COOKIE_SECURE", _bool),
    "DEVELOPMENT": ("CONSENT_DEVELOPMENT", _bool),
    "PATIENT_IDLE_WARNING_SECONDS": ("PATIENT_IDLE_WARNING_SECONDS", int),
    "PATIENT_IDLE_RESET_SECONDS": ("PATIENT_IDLE_RESET_SECONDS", int),
}


def from_environment() -> dict:
    settings = {}
    for key, (name, parse) in ENVIRONMENT.items():
        if not os.environ.get(name):
            continue
        try:
            settings[key] = parse(os.environ[name])
        except ValueError as exc:
            raise ConfigurationError(f"{name} cannot be read: {exc}") from exc
    return settings


def check(config: dict) -> None:
    if config.get("PDF_RENDER_MODE") not in {"inline", "thread", "worker"}:
        raise ConfigurationError("PDF_RENDER_MODE must be one of: inline, thread, worker.")
    warning = config.get("PATIENT_IDLE_WARNING_SECONDS")
    reset = config.get("PATIENT_IDLE_RESET_SECONDS")
    if not (isinstance(warning, int) and isinstance(reset, int) and 0 < warning < reset):
        raise ConfigurationError(
            "PATIENT_IDLE_WARNING_SECONDS and PATIENT_IDLE_RESET_SECONDS must be whole numbers "
            "of seconds, with the warning coming before the reset (for example 120 and 180)."
        )
    if config.get("SECRET_KEY"):
        return
    if config.get("TESTING") or config.get("DEVELOPMENT"):
        return
    raise ConfigurationError(
        "SECRET_KEY is not set. Set the SECRET_KEY environment variable (or SECRET_KEY in "
        "instance/config.py) to a long random value, for example the output of: "
        "python -c 'import secrets; print(secrets.token_hex(32))'"
    )
