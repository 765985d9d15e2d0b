"""The app's settings: one typed model (pydantic-settings) with every setting's type, default,
environment variable and check, and the fixed choices that are not settings at all.

Where they come from, the later overriding the earlier: the defaults below, the clinic's own
instance/config.py (flaskr's pattern, the Flask names), then the environment variables (each
setting's own name, except the three noted). A test's test_config replaces the file and the
environment. Only tests and development may run without a real SECRET_KEY: a clinic's server
that forgot to set one must refuse to start rather than sign session cookies with a key
anyone can guess.
"""

import os
import re
import secrets
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Config, Flask
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .paths import DEFAULT_FORMS_DIR


class ConfigurationError(RuntimeError):
    """The app cannot start with the configuration it was given."""


# The rate-limit stores whose entries the sign-in limits can give back (rate_limits.py).
REFUNDABLE_SCHEMES = ("database", "memory", "redis", "rediss", "redis+unix")


class RenderMode(StrEnum):
    """When a committed record's PDF is made (PDF_RENDER_MODE)."""

    INLINE = "inline"  # right after the signing transaction commits (tests)
    THREAD = "thread"  # a background thread in each app process claims render jobs
    WORKER = "worker"  # only `flask --app wsgi worker` renders


class PageSize(StrEnum):
    """The paper the PDFs are laid out for (PDF_PAGE_SIZE): US clinics print Letter."""

    LETTER = "letter"
    A4 = "a4"


# A phone number as a patient dials it: digits, spaces, + ( ) - . and an optional extension.
PHONE_PATTERN = re.compile(r"^\+?[\d(][\d ().\-]{1,30}\d(\s*(ext\.?|x)\s*\d{1,6})?$", re.I)


# The app's own choices, not the clinic's: no environment variable changes them (a file or a
# test may, as any Flask setting).
FIXED: dict[str, Any] = {
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Strict",
    # A signature is a few thousand points; nothing a patient or staff member sends is larger.
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    "WTF_CSRF_TIME_LIMIT": None,
    # hide_parameters: a database error message must not quote patient answers.
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
    "BABEL_DEFAULT_LOCALE": "en",
    # A moving window: no burst of fresh attempts the moment a fixed window turns over.
    "RATELIMIT_STRATEGY": "moving-window",
    "SIGNATURE_MAX_POINTS": 6000,
}

# HSTS for a year once the site is HTTPS: what browsers' preload rules ask for; an admin who
# wants less (a trial) sets HSTS_SECONDS.
HSTS_YEAR = 365 * 24 * 3600

IDLE_PROBLEM = (
    "PATIENT_IDLE_WARNING_SECONDS and PATIENT_IDLE_RESET_SECONDS must be whole numbers "
    "of seconds, with the warning coming before the reset (for example 120 and 180)."
)
# What to say when a setting's value is wrong, for the settings whose rule needs explaining.
PROBLEMS = {
    "PDF_RENDER_MODE": "PDF_RENDER_MODE must be one of: inline, thread, worker.",
    "STAFF_IDLE_MINUTES": "STAFF_IDLE_MINUTES must be a positive number of minutes.",
    "PDF_RENDER_LEASE_SECONDS":
        "PDF_RENDER_LEASE_SECONDS must be a positive number of seconds (for example 30).",
    "PATIENT_COPY_MINUTES":
        "PATIENT_COPY_MINUTES must be a positive number of minutes (for example 15).",
    "PATIENT_IDLE_WARNING_SECONDS": IDLE_PROBLEM,
    "PATIENT_IDLE_RESET_SECONDS": IDLE_PROBLEM,
    "PDF_PAGE_SIZE": "PDF_PAGE_SIZE must be letter or a4.",
}
NO_SECRET_KEY = (
    "SECRET_KEY is not set. Set the SECRET_KEY environment variable (or SECRET_KEY in "
    "instance/config.py) to a long random value, for example the output of: "
    "python -c 'import secrets; print(secrets.token_hex(32))'"
)


class Settings(BaseSettings):
    """Every setting a clinic may make. The field is the Flask config key the code reads; its
    environment variable is the same name unless `validation_alias` gives another. What each
    means is README's configuration table (tests/test_settings.py holds the two together)."""

    model_config = SettingsConfigDict(
        extra="ignore", case_sensitive=True, env_ignore_empty=True, frozen=True
    )

    # Signs session cookies; required outside development and tests.
    SECRET_KEY: str | None = None
    # Unset: the SQLite file instance/consent.sqlite3.
    SQLALCHEMY_DATABASE_URI: str | None = Field(None, validation_alias="DATABASE_URL")
    CLINIC_NAME: str = "Your Clinic"
    CLINIC_TIMEZONE: str = "UTC"  # an IANA name
    # The numbers a patient is told to call (aftercare, finish screen, PDF, their phone's
    # copy page): the clinic's, and the one for after hours. Unset: the patient is told to
    # ask the staff for the number, and `forms check` warns.
    CLINIC_PHONE: str | None = None
    CLINIC_AFTER_HOURS_PHONE: str | None = None
    PDF_PAGE_SIZE: PageSize = PageSize.LETTER
    FORMS_DIR: Path = Field(DEFAULT_FORMS_DIR, validation_alias="CONSENT_FORMS_DIR")
    PDF_RENDER_MODE: RenderMode = RenderMode.THREAD
    # A render job is held by its worker for this long, renewed while it renders: a worker
    # that dies lets its job go within this long, for any other worker to take over.
    PDF_RENDER_LEASE_SECONDS: float = Field(30, gt=0)
    # Where the sign-in and copy-link limits are counted: database:// is the app's own
    # database (rate_limits.py), shared by every gunicorn worker and app server with nothing
    # else to install; redis://HOST:PORT/DB a Redis; memory:// each process alone.
    RATELIMIT_STORAGE_URI: str = "database://"
    # Failed staff sign-ins allowed per account and per client address.
    STAFF_LOGIN_LIMIT_PER_ACCOUNT: str = "5 per 15 minutes"
    STAFF_LOGIN_LIMIT_PER_ADDRESS: str = "30 per 15 minutes"
    # Automatic logoff (HIPAA 164.312(a)(2)(iii)) after this long without a request, with a
    # warning on the page this many seconds before.
    STAFF_IDLE_MINUTES: float = Field(15, gt=0)
    STAFF_IDLE_WARNING_SECONDS: int = Field(120, ge=0)
    STAFF_PAGE_SIZE: int = Field(50, gt=0)
    # HTTPS follows from one setting: a PUBLIC_BASE_URL starting with https:// turns on secure
    # cookies, HSTS and https links (https_follows_the_address, below); each of the three
    # may still be set on its own, which wins.
    SESSION_COOKIE_SECURE: bool | None = Field(
        None, description="unset: on when PUBLIC_BASE_URL is https://"
    )
    PREFERRED_URL_SCHEME: Literal["http", "https"] | None = Field(
        None, description="unset: https when PUBLIC_BASE_URL is https://, else http"
    )
    DEVELOPMENT: bool = Field(False, validation_alias="CONSENT_DEVELOPMENT")
    # Behind a reverse proxy: how many proxies set X-Forwarded-For / -Proto (0: none).
    PROXY_FIX_X_FOR: int = Field(0, ge=0)
    PROXY_FIX_X_PROTO: int = Field(0, ge=0)
    # Strict-Transport-Security max-age, sent on HTTPS requests only (0: never).
    HSTS_SECONDS: int | None = Field(
        None, ge=0, description="unset: a year when PUBLIC_BASE_URL is https://, else 0"
    )
    # The clinic's seal on every PDF. With no PKCS#12 file configured, a key and a
    # self-signed certificate are made in SEAL_KEY_DIR the first time a PDF is sealed.
    SEAL_KEY_DIR: str | None = None  # unset: instance/seal
    SEAL_PKCS12_FILE: str | None = None
    SEAL_PKCS12_PASSPHRASE: str | None = None
    # An RFC 3161 timestamp authority makes the seals PAdES B-T (else B-B); its root
    # certificate (a PEM file, required with the URL) is what timestamps are checked by.
    SEAL_TSA_URL: str | None = None
    SEAL_TSA_ROOT_CERT: str | None = None
    # Where staff open this app, for the QR code on every PDF page (e.g.
    # https://consent.clinic.example). Unset: the QR code holds the path alone.
    PUBLIC_BASE_URL: str | None = None
    # /healthz answers 503, and `doctor` complains, when no worker loop has written its
    # heartbeat for this long; PDFs waiting longer than this are overdue.
    WORKER_SILENT_SECONDS: int = Field(120, gt=0)
    # Where `flask --app wsgi backup` writes (and `doctor` looks for) the nightly backups,
    # and how many it keeps.
    BACKUP_DIR: str | None = Field(None, description="unset: instance/backups")
    BACKUP_KEEP: int = Field(14, gt=0)
    # A shared tablet left alone: warn after this many idle seconds, and after the reset
    # time wipe the draft and show the welcome screen (the server also refuses a draft
    # untouched for longer than the reset time).
    PATIENT_IDLE_WARNING_SECONDS: int = Field(120, gt=0)
    PATIENT_IDLE_RESET_SECONDS: int = Field(180, gt=0)
    # The patient's copy: the QR code on the finish screen opens their signed PDF once,
    # within this many minutes; the page and its download are throttled per address.
    PATIENT_COPY_MINUTES: float = Field(15, gt=0)
    PATIENT_COPY_LIMIT: str = "10 per minute"
    # Without PUBLIC_BASE_URL, the copy QR code uses the address the tablet used only when
    # Flask checks every request's host against these names (another host gets 400); with
    # neither, the finish screen shows no QR code. In the environment: comma-separated.
    TRUSTED_HOSTS: Annotated[list[str] | None, NoDecode] = None
    # Verifying an uploaded PDF (records/verify.py): a file is first looked up by its
    # SHA-256; only one up to this size is parsed, in a child process with these limits
    # (records/seal_check.py). A consent PDF from this system is about 50 KB.
    VERIFY_MAX_BYTES: int = Field(4 * 1024 * 1024, gt=0)
    VERIFY_MEMORY_MB: int = Field(768, gt=0)
    VERIFY_CPU_SECONDS: int = Field(5, gt=0)
    VERIFY_TIMEOUT_SECONDS: float = Field(10, gt=0)

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings,
                                   dotenv_settings, file_secret_settings):
        return (init_settings,)  # the environment only through FromEnvironment, below

    @field_validator("FORMS_DIR", mode="before")
    @classmethod
    def _default_forms_dir(cls, value):
        return value or DEFAULT_FORMS_DIR

    @field_validator("PATIENT_COPY_MINUTES", "STAFF_IDLE_MINUTES", mode="before")
    @classmethod
    def _not_a_flag(cls, value):
        if isinstance(value, bool):
            raise ValueError("a number of minutes, not on or off")
        return value

    @field_validator("CLINIC_PHONE", "CLINIC_AFTER_HOURS_PHONE")
    @classmethod
    def _dialable(cls, value: str | None, info) -> str | None:
        value = " ".join((value or "").split()) or None
        if value and not PHONE_PATTERN.match(value):
            raise ValueError(
                f"{info.field_name} {value!r} is not a phone number: use digits, spaces and "
                "+ ( ) - . only, with an optional extension such as 'ext. 12' "
                "(for example '(555) 010-0100')."
            )
        return value

    @field_validator("PDF_PAGE_SIZE", mode="before")
    @classmethod
    def _any_case(cls, value):
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("TRUSTED_HOSTS", mode="before")
    @classmethod
    def _host_list(cls, value):
        if isinstance(value, str):
            return [host.strip() for host in value.split(",") if host.strip()]
        return value

    @field_validator("RATELIMIT_STORAGE_URI")
    @classmethod
    def _refundable_store(cls, value: str) -> str:
        if value.split("://", 1)[0] not in REFUNDABLE_SCHEMES:
            raise ValueError(
                f"RATELIMIT_STORAGE_URI {value!r} is not a store the sign-in limits can use: "
                "use database:// (the default, the app's own database), redis://HOST:PORT/DB, "
                "or memory:// (one process only)."
            )
        return value

    @field_validator("PUBLIC_BASE_URL")
    @classmethod
    def _an_address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"PUBLIC_BASE_URL {value!r} is not an address: give https:// and the name "
                "the tablets open, for example https://consent.clinic.lan"
            )
        return value.strip().rstrip("/")

    @field_validator("CLINIC_TIMEZONE")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value or "")
        except (ValueError, ZoneInfoNotFoundError):
            raise ValueError(
                f"CLINIC_TIMEZONE {value!r} is not a time zone name; "
                "use one such as Europe/London or America/New_York."
            ) from None
        return value

    @model_validator(mode="after")
    def _consistent(self):
        if self.SEAL_TSA_URL and not self.SEAL_TSA_ROOT_CERT:
            raise ValueError(
                "SEAL_TSA_URL is set but SEAL_TSA_ROOT_CERT is not: name the PEM file of the "
                "timestamp authority's root certificate, so timestamps can be checked."
            )
        if not self.PATIENT_IDLE_WARNING_SECONDS < self.PATIENT_IDLE_RESET_SECONDS:
            raise ValueError(IDLE_PROBLEM)
        return self

    @classmethod
    def environment_names(cls) -> dict[str, str]:
        """Config key -> the environment variable that sets it."""
        return {name: field.validation_alias or name for name, field in cls.model_fields.items()}

    @classmethod
    def from_values(cls, values: dict[str, Any]) -> "Settings":
        """Validate config-keyed values (a file's, a test's)."""
        names = cls.environment_names()
        return cls(**{names.get(key, key): value for key, value in values.items()})


class FromEnvironment(Settings):
    """The same settings, the environment's variables over the values given."""

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings,
                                   dotenv_settings, file_secret_settings):
        return (env_settings, init_settings)


def _explain(error: ValidationError, environment: bool) -> str:
    """One sentence per problem, naming the setting (its environment variable, if that is
    where the unreadable value came from)."""
    problems = []
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else ""
        key = next((k for k, env in Settings.environment_names().items() if env == name), name)
        cause = item.get("ctx", {}).get("error")
        if environment and os.environ.get(name) and item["type"].endswith("_parsing"):
            problems.append(f"{name} cannot be read: {item['msg']}")
        elif key in PROBLEMS:
            problems.append(PROBLEMS[key])
        elif isinstance(cause, ValueError):
            problems.append(str(cause))
        else:
            problems.append(f"{name} cannot be used: {item['msg']}")
    return " ".join(dict.fromkeys(problems))


def load(instance_path: str, test_config: dict | None = None) -> dict[str, Any]:
    """The app's whole configuration, checked; raises ConfigurationError saying what is wrong."""
    if test_config is None:
        given = Config(instance_path)
        given.from_pyfile("config.py", silent=True)
        model, values = FromEnvironment, dict(given)
    else:
        model, values = Settings, dict(test_config)
    try:
        settings = model.from_values(values)
    except ValidationError as error:
        raise ConfigurationError(_explain(error, environment=model is FromEnvironment)) from None
    config = {**FIXED, **values, **settings.model_dump()}
    config["SQLALCHEMY_DATABASE_URI"] = settings.SQLALCHEMY_DATABASE_URI or default_database_uri(
        instance_path
    )
    config["SEAL_KEY_DIR"] = settings.SEAL_KEY_DIR or str(Path(instance_path) / "seal")
    config["BACKUP_DIR"] = settings.BACKUP_DIR or str(Path(instance_path) / "backups")
    config.update(https_follows_the_address(settings))
    if not (config["SECRET_KEY"] or config.get("TESTING") or config["DEVELOPMENT"]):
        raise ConfigurationError(NO_SECRET_KEY)
    return config


def https_follows_the_address(settings: Settings) -> dict[str, Any]:
    """Secure cookies, HSTS and https links, from PUBLIC_BASE_URL unless set on their own."""
    https = urlsplit(settings.PUBLIC_BASE_URL or "").scheme == "https"

    def chosen(value, if_https, otherwise):
        return value if value is not None else (if_https if https else otherwise)

    return {
        "SESSION_COOKIE_SECURE": chosen(settings.SESSION_COOKIE_SECURE, True, False),
        "HSTS_SECONDS": chosen(settings.HSTS_SECONDS, HSTS_YEAR, 0),
        "PREFERRED_URL_SCHEME": chosen(settings.PREFERRED_URL_SCHEME, "https", "http"),
    }


def default_database_uri(instance_path: str) -> str:
    return f"sqlite:///{Path(instance_path) / 'consent.sqlite3'}"


def init_app(app: Flask, test_config: dict | None = None) -> None:
    app.config.from_mapping(load(app.instance_path, test_config))
    if not app.config["SECRET_KEY"]:
        # Tests and development only (load refused all else): sessions last as long as
        # the process, which is what those runs need.
        app.config["SECRET_KEY"] = secrets.token_hex(32)
    if app.config["SQLALCHEMY_DATABASE_URI"] == default_database_uri(app.instance_path):
        # The default SQLite file lives in instance/, which a fresh checkout does not have.
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
