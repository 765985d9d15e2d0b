"""Configuration: defaults, then instance/config.py, then environment variables.

Only tests and development may run without a real SECRET_KEY: a clinic's server that forgot
to set one must refuse to start rather than sign session cookies with a key anyone can guess.
"""

import os
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# The stores whose entries the sign-in limits can give back (consentapp/rate_limits.py).
REFUNDABLE_SCHEMES = ("database", "memory", "redis", "rediss", "redis+unix")


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
        # The app's own database (consentapp/rate_limits.py): shared by every gunicorn worker
        # and app server with nothing else to install; redis://host:6379/N for a chain of
        # clinics with its Redis; memory:// counts in each process alone.
        "RATELIMIT_STORAGE_URI": "database://",
        # A moving window: no burst of fresh attempts the moment a fixed window turns over.
        "RATELIMIT_STRATEGY": "moving-window",
        # Failed staff sign-ins allowed per account and per client address.
        "STAFF_LOGIN_LIMIT_PER_ACCOUNT": "5 per 15 minutes",
        "STAFF_LOGIN_LIMIT_PER_ADDRESS": "30 per 15 minutes",
        # Automatic logoff (HIPAA 164.312(a)(2)(iii)) after this long without a request, with
        # a warning on the page this many seconds before.
        "STAFF_IDLE_MINUTES": 15,
        "STAFF_IDLE_WARNING_SECONDS": 120,
        "STAFF_PAGE_SIZE": 50,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Strict",
        "SESSION_COOKIE_SECURE": False,
        # A signature is a few thousand points; nothing a patient or staff member sends is larger.
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
        # hide_parameters: a database error message must not quote patient answers.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
        "BABEL_DEFAULT_LOCALE": "en",
        "SIGNATURE_MAX_POINTS": 6000,
        # A shared tablet left alone: warn after this many idle seconds, and after the reset
        # time wipe the draft and show the welcome screen (the server also refuses a draft
        # untouched for longer than the reset time).
        "PATIENT_IDLE_WARNING_SECONDS": 120,
        "PATIENT_IDLE_RESET_SECONDS": 180,
        "DEVELOPMENT": False,
        # Behind a reverse proxy: how many proxies set X-Forwarded-For / -Proto (0: none).
        "PROXY_FIX_X_FOR": 0,
        "PROXY_FIX_X_PROTO": 0,
        # Strict-Transport-Security max-age; only set it once the site is served over HTTPS.
        "HSTS_SECONDS": 0,
        # The clinic's seal on every PDF. With no PKCS#12 file configured, a key and a
        # self-signed certificate are made in SEAL_KEY_DIR the first time a PDF is sealed.
        "SEAL_KEY_DIR": str(Path(instance_path) / "seal"),
        "SEAL_PKCS12_FILE": None,
        "SEAL_PKCS12_PASSPHRASE": None,
        # An RFC 3161 timestamp authority makes the seals PAdES B-T (else B-B); its root
        # certificate (a PEM file, required with the URL) is what timestamps are checked by.
        "SEAL_TSA_URL": None,
        "SEAL_TSA_ROOT_CERT": None,
        # Where staff open this app, for the QR code on every PDF page (e.g.
        # https://consent.clinic.example). Unset: the QR code holds the path alone.
        "PUBLIC_BASE_URL": None,
        # The patient's copy: the QR code on the finish screen opens their signed PDF once,
        # within this many minutes; the page and its download are throttled per address.
        "PATIENT_COPY_MINUTES": 15,
        "PATIENT_COPY_LIMIT": "10 per minute",
        # Without PUBLIC_BASE_URL the copy QR code uses the address the tablet used only when
        # Flask checks it against these names (a request for any other host is refused
        # with 400); with neither set, the finish screen shows no QR code.
        "TRUSTED_HOSTS": None,
        # Verifying an uploaded PDF (records/seal_check.py): a file is first looked up by its
        # SHA-256; only one up to this size is parsed, in a child process with these limits.
        # A consent PDF from this system is about 50 KB.
        "VERIFY_MAX_BYTES": 4 * 1024 * 1024,
        "VERIFY_MEMORY_MB": 768,
        "VERIFY_CPU_SECONDS": 5,
        "VERIFY_TIMEOUT_SECONDS": 10,
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
    "STAFF_IDLE_MINUTES": ("STAFF_IDLE_MINUTES", float),
    "SESSION_COOKIE_SECURE": ("SESSION_COOKIE_SECURE", _bool),
    "DEVELOPMENT": ("CONSENT_DEVELOPMENT", _bool),
    "PROXY_FIX_X_FOR": ("PROXY_FIX_X_FOR", int),
    "PROXY_FIX_X_PROTO": ("PROXY_FIX_X_PROTO", int),
    "HSTS_SECONDS": ("HSTS_SECONDS", int),
    "SEAL_KEY_DIR": ("SEAL_KEY_DIR", str),
    "SEAL_PKCS12_FILE": ("SEAL_PKCS12_FILE", str),
    "SEAL_PKCS12_PASSPHRASE": ("SEAL_PKCS12_PASSPHRASE", str),
    "SEAL_TSA_URL": ("SEAL_TSA_URL", str),
    "SEAL_TSA_ROOT_CERT": ("SEAL_TSA_ROOT_CERT", str),
    "PUBLIC_BASE_URL": ("PUBLIC_BASE_URL", str),
    "PATIENT_IDLE_WARNING_SECONDS": ("PATIENT_IDLE_WARNING_SECONDS", int),
    "PATIENT_IDLE_RESET_SECONDS": ("PATIENT_IDLE_RESET_SECONDS", int),
    "PATIENT_COPY_MINUTES": ("PATIENT_COPY_MINUTES", float),
    "PATIENT_COPY_LIMIT": ("PATIENT_COPY_LIMIT", str),
    "TRUSTED_HOSTS": ("TRUSTED_HOSTS", lambda value: [
        host.strip() for host in value.split(",") if host.strip()
    ]),
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
    try:
        ZoneInfo(config.get("CLINIC_TIMEZONE") or "")
    except (ValueError, ZoneInfoNotFoundError):
        raise ConfigurationError(
            f"CLINIC_TIMEZONE {config.get('CLINIC_TIMEZONE')!r} is not a time zone name; "
            "use one such as Europe/London or America/New_York."
        ) from None
    if config.get("SEAL_TSA_URL") and not config.get("SEAL_TSA_ROOT_CERT"):
        raise ConfigurationError(
            "SEAL_TSA_URL is set but SEAL_TSA_ROOT_CERT is not: name the PEM file of the "
            "timestamp authority's root certificate, so timestamps can be checked."
        )
    try:
        idle = float(config.get("STAFF_IDLE_MINUTES", 0))
    except (TypeError, ValueError):
        idle = 0
    if idle <= 0:
        raise ConfigurationError("STAFF_IDLE_MINUTES must be a positive number of minutes.")
    minutes = config.get("PATIENT_COPY_MINUTES")
    if not isinstance(minutes, int | float) or isinstance(minutes, bool) or minutes <= 0:
        raise ConfigurationError(
            "PATIENT_COPY_MINUTES must be a positive number of minutes (for example 15)."
        )
    warning = config.get("PATIENT_IDLE_WARNING_SECONDS")
    reset = config.get("PATIENT_IDLE_RESET_SECONDS")
    if not (isinstance(warning, int) and isinstance(reset, int) and 0 < warning < reset):
        raise ConfigurationError(
            "PATIENT_IDLE_WARNING_SECONDS and PATIENT_IDLE_RESET_SECONDS must be whole numbers "
            "of seconds, with the warning coming before the reset (for example 120 and 180)."
        )
    scheme = str(config.get("RATELIMIT_STORAGE_URI") or "").split("://", 1)[0]
    if scheme not in REFUNDABLE_SCHEMES:
        raise ConfigurationError(
            f"RATELIMIT_STORAGE_URI {config.get('RATELIMIT_STORAGE_URI')!r} is not a store the "
            "sign-in limits can use: use database:// (the default, the app's own database), "
            "redis://HOST:PORT/DB, or memory:// (one process only)."
        )
    for key in ("VERIFY_MAX_BYTES", "VERIFY_MEMORY_MB", "VERIFY_CPU_SECONDS",
                "VERIFY_TIMEOUT_SECONDS"):
        value = config.get(key)
        if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
            raise ConfigurationError(f"{key} must be a positive number.")
    if config.get("SECRET_KEY"):
        return
    if config.get("TESTING") or config.get("DEVELOPMENT"):
        return
    raise ConfigurationError(
        "SECRET_KEY is not set. Set the SECRET_KEY environment variable (or SECRET_KEY in "
        "instance/config.py) to a long random value, for example the output of: "
        "python -c 'import secrets; print(secrets.token_hex(32))'"
    )
