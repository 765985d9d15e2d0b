"""Backups of the records database and the seal key, one folder each, in the backup folder.

`flask --app wsgi backup --dir DIR --keep N` (consentapp-backup.timer, every night) writes
DIR/consent-backup-YYYYMMDD-HHMMSS/ (UTC) with `consent.sqlite3` (SQLite's online backup,
taken while the app runs) and `seal/` (the files the clinic's seal is made with), then keeps
the newest N such folders. A folder is written under a hidden name and renamed when complete,
so a backup cut short is never taken for one.

How `doctor` knows when the seal key was last backed up: the newest complete folder whose
`seal/` holds the very bytes of today's key files. A key made or replaced after that backup
is not in it, and doctor says so.
"""

import re
import shutil
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .records.clinic_key import CERT_FILE, KEY_FILE

DATABASE_FILE = "consent.sqlite3"
SEAL_FOLDER = "seal"
# A second backup within the same second gets "-2" (and so on) after the time.
_NAME = re.compile(r"^consent-backup-(\d{8}-\d{6})(?:-(\d+))?$")
_TIME_FORMAT = "%Y%m%d-%H%M%S"


class BackupError(RuntimeError):
    """The backup cannot be made; the message says why and what to do."""


@dataclass(frozen=True)
class Backup:
    path: Path
    taken_at: datetime  # UTC, from the folder's name
    number: int = 1  # the how-manieth within that second


def backup_dir(config: Mapping) -> Path:
    return Path(config["BACKUP_DIR"])


def seal_files(config: Mapping) -> list[Path]:
    """The files the clinic's seal is made with, as far as they exist yet."""
    if config.get("SEAL_PKCS12_FILE"):
        candidates = [Path(config["SEAL_PKCS12_FILE"])]
    else:
        key_dir = Path(config["SEAL_KEY_DIR"])
        candidates = [key_dir / KEY_FILE, key_dir / CERT_FILE]
    return [path for path in candidates if path.is_file()]


def copy_sqlite(database: str, out: Path) -> None:
    """SQLite's online backup: a consistent copy while the app keeps writing."""
    source = sqlite3.connect(database)
    target = sqlite3.connect(out)
    try:
        with target:
            source.backup(target)
    finally:
        target.close()
        source.close()
    out.chmod(0o600)


def take(config: Mapping, database: str | None, directory: Path, keep: int,
         now: datetime | None = None) -> tuple[Backup, list[Path]]:
    """Write one backup folder into `directory`, then remove all but the newest `keep`.

    `database` is the SQLite file; None (PostgreSQL: pg_dump's job) backs up the seal key
    alone. Returns the new backup and the folders removed.
    """
    if keep < 1:
        raise BackupError("--keep must be at least 1: the backup just made is kept.")
    now = now or datetime.now(UTC)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    stem = f"consent-backup-{now.strftime(_TIME_FORMAT)}"
    name, number = stem, 1
    while (directory / name).exists():
        number += 1
        name = f"{stem}-{number}"
    final = directory / name
    staging = directory / f".{name}.partial"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(mode=0o700)
    try:
        if database is not None:
            copy_sqlite(database, staging / DATABASE_FILE)
        (staging / SEAL_FOLDER).mkdir(mode=0o700)
        for path in seal_files(config):
            shutil.copy2(path, staging / SEAL_FOLDER / path.name)
            (staging / SEAL_FOLDER / path.name).chmod(0o600)
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    backups = all_backups(directory)
    removed = [backup.path for backup in backups[:-keep]]
    for path in removed:
        shutil.rmtree(path)
    return Backup(final, now.replace(microsecond=0), number), removed


def all_backups(directory: Path) -> list[Backup]:
    """The complete backup folders in `directory`, oldest first."""
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        match = _NAME.match(path.name)
        if match and path.is_dir():
            taken_at = datetime.strptime(match[1], _TIME_FORMAT).replace(tzinfo=UTC)
            found.append(Backup(path, taken_at, int(match[2] or 1)))
    return sorted(found, key=lambda backup: (backup.taken_at, backup.number))


def newest(directory: Path) -> Backup | None:
    backups = all_backups(directory)
    return backups[-1] if backups else None


def holds_seal(backup: Backup, files: list[Path]) -> bool:
    """Whether the backup holds exactly these seal files."""
    return bool(files) and all(
        (copy := backup.path / SEAL_FOLDER / path.name).is_file()
        and copy.read_bytes() == path.read_bytes()
        for path in files
    )


def last_seal_backup(directory: Path, files: list[Path]) -> Backup | None:
    """The newest backup that holds today's seal files, if any does."""
    return next(
        (backup for backup in reversed(all_backups(directory)) if holds_seal(backup, files)),
        None,
    )
