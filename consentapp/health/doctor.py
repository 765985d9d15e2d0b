"""`flask --app wsgi doctor`: what an administrator gets wrong, checked, one line each.

Each check returns a Finding: ok, or a problem and what to do about it. The command prints one
line per finding and exits 1 when any is a problem.
"""

import json
import os
import shutil
import ssl
import stat
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from .. import backups
from ..extensions import db, limiter
from ..records import monitor
from ..records.clinic_key import KEY_FILE
from ..settings import Settings
from . import status

# Values that are not a secret: examples and the test suite's own.
PLACEHOLDER_KEYS = {
    "", "dev", "development", "secret", "secret-key", "changeme", "change-me", "replace-me",
    "test", "testing", "test-secret-key-not-for-production",
}
MIN_SECRET_KEY = 32
BACKUP_MAX_AGE = timedelta(days=2)
MIN_FREE_BYTES = 1024**3
REACH_TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class Finding:
    name: str
    ok: bool
    text: str

    def line(self) -> str:
        return f"{'ok' if self.ok else 'PROBLEM':8} {self.name}: {self.text}"


def _default(key: str):
    return Settings.model_fields[key].default


def _ago(moment: datetime, now: datetime) -> str:
    seconds = max(0, (now - moment).total_seconds())
    if seconds < 120:
        return f"{seconds:.0f} seconds ago"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} minutes ago"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} hours ago"
    return f"{seconds / 86400:.0f} days ago"


def _size(count: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024
    return ""  # unreachable


def secret_key(config) -> Finding:
    key = config.get("SECRET_KEY") or ""
    if config.get("DEVELOPMENT"):
        return Finding("secret key", False, "development mode (CONSENT_DEVELOPMENT) is on, so "
                       "sessions may be signed with a key made at start; unset it")
    if key.strip().lower() in PLACEHOLDER_KEYS:
        return Finding("secret key", False, "SECRET_KEY is an example value; set it to the "
                       "output of: python3 -c 'import secrets; print(secrets.token_hex(32))'")
    if len(key) < MIN_SECRET_KEY:
        return Finding("secret key", False, f"SECRET_KEY has {len(key)} characters; use at "
                       f"least {MIN_SECRET_KEY} random ones (python3 -c 'import secrets; "
                       "print(secrets.token_hex(32))')")
    return Finding("secret key", True, f"set ({len(key)} characters)")


def database(config) -> Finding:
    state = status.database_state()
    if not state.reachable:
        return Finding("database", False, f"cannot be reached ({state.error}); check "
                       "DATABASE_URL and that the database server is running")
    if not state.migrated:
        return Finding("database", False, f"at revision {state.revision or 'none'}, the code "
                       f"needs {state.head}: run `flask --app wsgi db upgrade` (the web "
                       "service does at start)")
    backend = db.engine.url.get_backend_name()
    return Finding("database", True, f"{backend}, reachable and migrated ({state.head})")


def _private(path: Path) -> bool:
    return not (path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))


def seal_key(config) -> Finding:
    if config.get("SEAL_PKCS12_FILE"):
        path = Path(config["SEAL_PKCS12_FILE"])
        if not path.is_file():
            return Finding("seal key", False, f"SEAL_PKCS12_FILE {path} does not exist")
        if not _private(path):
            return Finding("seal key", False, f"{path} can be read by others: chmod 600 it")
        return Finding("seal key", True, f"the clinic's own PKCS#12 file {path}")
    files = backups.seal_files(config)
    key_dir = Path(config["SEAL_KEY_DIR"])
    if len(files) < 2:
        return Finding("seal key", False, f"none in {key_dir} yet (it is made when the first "
                       "PDF is sealed): run `flask --app wsgi forms preview microneedling "
                       "--out /tmp/sample.pdf` to make it now, then back it up")
    # The certificate is public; the key and its folder are the app's user's alone.
    loose = [path for path in (key_dir, key_dir / KEY_FILE) if not _private(path)]
    if loose:
        return Finding("seal key", False, f"{loose[0]} can be read by others: chmod "
                       f"{'700' if loose[0].is_dir() else '600'} it (owner: the app's user)")
    return Finding("seal key", True, f"present in {key_dir}, readable by its owner alone")


def backup(config, now: datetime | None = None) -> Finding:
    now = now or datetime.now(UTC)
    directory = backups.backup_dir(config)
    latest = backups.newest(directory)
    if latest is None:
        return Finding("backups", False, f"none in {directory}: run `flask --app wsgi backup "
                       "--dir ...` (systemctl start consentapp-backup; the timer does it "
                       "every night)")
    files = backups.seal_files(config)
    with_seal = backups.last_seal_backup(directory, files)
    if files and with_seal is None:
        return Finding("backups", False, f"the seal key was made or changed after the newest "
                       f"backup ({_ago(latest.taken_at, now)}): back up now, or every PDF "
                       "sealed since cannot be verified after a loss")
    if now - latest.taken_at > BACKUP_MAX_AGE:
        return Finding("backups", False, f"the newest is from {_ago(latest.taken_at, now)} "
                       f"({latest.path.name}): is consentapp-backup.timer enabled?")
    where = "database and seal key" if files else "database (no seal key made yet)"
    if db.engine.url.get_backend_name() != "sqlite":
        where = ("seal key; the PostgreSQL database itself is backed up with pg_dump, "
                 "which doctor cannot see")
    return Finding("backups", True, f"{where} backed up {_ago(latest.taken_at, now)} "
                   f"in {latest.path}")


def public_address(config) -> Finding:
    base = (config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    if not base:
        return Finding("public address", False, "PUBLIC_BASE_URL is not set: set it to "
                       "https:// and the name the tablets open (README, Production)")
    if urlsplit(base).scheme != "https":
        return Finding("public address", False, f"PUBLIC_BASE_URL {base} is not https://: "
                       "browsers then ignore Clear-Site-Data and cookies are not Secure; "
                       "serve it through Caddy (deploy/Caddyfile)")
    url = f"{base}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=REACH_TIMEOUT_SECONDS,
                                    context=ssl.create_default_context()) as response:
            body = response.read()
    except urllib.error.HTTPError as error:  # a 503 from /healthz is still this app
        body = error.read()
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, ssl.SSLCertVerificationError):
            return Finding("public address", False, f"{base}: this server does not trust its "
                           f"certificate ({reason.verify_message}); install Caddy's root "
                           "certificate with update-ca-certificates (README, Production)")
        return Finding("public address", False, f"{base} cannot be reached ({reason}): is "
                       "Caddy running, and does the name lead to this server?")
    except (OSError, ValueError) as error:
        return Finding("public address", False, f"{base} cannot be reached "
                       f"({type(error).__name__}: {error})")
    try:
        answered = "database" in json.loads(body)
    except (ValueError, TypeError):
        answered = False
    if not answered:
        return Finding("public address", False, f"{url} answers, but not as this app: does "
                       "Caddy proxy to gunicorn (GUNICORN_BIND)?")
    return Finding("public address", True, f"{base} answers over trusted HTTPS")


def clinic_name(config) -> Finding:
    name = config.get("CLINIC_NAME") or ""
    if not name.strip() or name == _default("CLINIC_NAME"):
        return Finding("clinic name", False, f"CLINIC_NAME is {name!r}, the default: set the "
                       "clinic's name (it is printed on every page and PDF)")
    return Finding("clinic name", True, name)


def clinic_phone(config) -> Finding:
    phone = (config.get("CLINIC_PHONE") or "").strip()
    if not phone:
        return Finding("clinic phone", False, "CLINIC_PHONE is not set: set the number "
                       "patients call with questions")
    return Finding("clinic phone", True, phone)


def time_zone(config) -> Finding:
    zone = config.get("CLINIC_TIMEZONE")
    if zone == _default("CLINIC_TIMEZONE"):
        return Finding("time zone", False, f"CLINIC_TIMEZONE is {zone}, the default: set the "
                       "clinic's own (for example America/Chicago) for the times on PDFs")
    return Finding("time zone", True, zone)


def worker(config) -> Finding:
    try:
        state = status.worker_state()
    except SQLAlchemyError as exc:
        db.session.rollback()
        return Finding("PDF worker", False, f"its heartbeat cannot be read ({type(exc).__name__})")
    if not state.needed:
        return Finding("PDF worker", True, "none needed: PDFs render in the signing request "
                       "(PDF_RENDER_MODE=inline)")
    if not state.alive:
        since = (f"last heard {state.seconds_since_heartbeat:.0f} s ago"
                 if state.last_heartbeat else "never heard from")
        return Finding("PDF worker", False, f"{since} (limit {state.silent_limit_seconds} s): "
                       "start it (systemctl start consentapp-worker, or `flask --app wsgi "
                       "worker`; journalctl -u consentapp-worker says why it stopped)")
    return Finding("PDF worker", True, f"alive, last heard {state.seconds_since_heartbeat:.0f} "
                   "s ago")


def pdfs(config) -> Finding:
    try:
        queue = monitor.queue_state()
        overdue = monitor.overdue_pdfs(status.silent_limit())
    except SQLAlchemyError as exc:
        db.session.rollback()
        return Finding("PDFs", False, f"the render queue cannot be read ({type(exc).__name__})")
    if queue.failed:
        return Finding("PDFs", False, f"{queue.failed} failed to render after every attempt: "
                       "see the worker's log, then `flask --app wsgi records rerender`")
    if overdue:
        return Finding("PDFs", False, f"{overdue} waiting longer than "
                       f"{config['WORKER_SILENT_SECONDS']} s: is the worker running?")
    return Finding("PDFs", True, f"{queue.depth} waiting, none overdue")


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def disk_space(config) -> Finding:
    url = db.engine.url
    places: dict[str, Path] = {}
    database_size = 0
    if url.get_backend_name() == "sqlite" and url.database:
        database_file = Path(url.database)
        places["the database"] = _existing(database_file.parent)
        if database_file.exists():
            database_size = database_file.stat().st_size
    places["backups"] = _existing(backups.backup_dir(config))
    # Room for a few more copies of the database, and never less than a gigabyte.
    needed = max(MIN_FREE_BYTES, 3 * database_size)
    reports, short = [], []
    for what, path in places.items():
        free = shutil.disk_usage(path).free
        reports.append(f"{_size(free)} free for {what} ({path})")
        if free < needed:
            short.append(what)
    if short:
        return Finding("disk space", False, "; ".join(reports) + f"; needs {_size(needed)} "
                       f"for {' and '.join(short)}: free some space")
    note = "" if url.get_backend_name() == "sqlite" else " (PostgreSQL: check its server)"
    return Finding("disk space", True, "; ".join(reports) + note)


def rate_limit_store(config) -> Finding:
    uri = config.get("RATELIMIT_STORAGE_URI") or ""
    scheme = uri.split(":", 1)[0]
    if scheme == "memory":
        processes = os.environ.get("GUNICORN_WORKERS")
        if processes == "1":
            return Finding("sign-in throttling", True, "in memory, and gunicorn runs one "
                           "worker (GUNICORN_WORKERS=1)")
        return Finding("sign-in throttling", False, f"RATELIMIT_STORAGE_URI is {uri}: each "
                       "gunicorn worker counts failed sign-ins alone, so the limits are "
                       "several times too loose; leave it unset (database://, the app's "
                       "own database) or point it at a Redis")
    try:
        reachable = limiter.storage.check()
    except Exception as exc:  # every storage backend raises its own kind
        return Finding("sign-in throttling", False, f"{scheme} store cannot be reached "
                       f"({type(exc).__name__})")
    if not reachable:
        return Finding("sign-in throttling", False, f"{scheme} store does not answer")
    return Finding("sign-in throttling", True, f"shared by every process ({scheme})")


CHECKS: tuple[Callable[..., Finding], ...] = (
    secret_key, database, seal_key, backup, public_address, clinic_name, clinic_phone,
    time_zone, worker, pdfs, disk_space, rate_limit_store,
)


def run() -> list[Finding]:
    config = current_app.config
    findings = []
    for check in CHECKS:
        try:
            findings.append(check(config))
        except Exception as exc:  # one broken check must not hide the others
            findings.append(Finding(check.__name__.replace("_", " "), False,
                                    f"the check itself failed ({type(exc).__name__}: {exc})"))
    return findings
