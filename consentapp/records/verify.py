"""The verdict on a PDF: what its SHA-256 says first, then (bounded) its seal.

A verdict has three answers, as the `verify` command's exit code:
0 - the file's bytes are a stored PDF version whose SHA-256 is in an intact history of its
    record, and its seal is this clinic's, intact and valid;
1 - the seal is missing, broken or invalid, or the file was changed after sealing, or the
    history that should vouch for it was changed, or the file is too large or too complex
    to check (or the clinic's certificate is missing, so nothing can be vouched for);
2 - the seal is intact and valid but no stored record has this file (a preview, or a file
    sealed by another clinic's key).

Nothing here parses a PDF: the file is hashed in chunks, looked up, and only a file under
VERIFY_MAX_BYTES is handed to records/seal_check.py, which checks seals in a child process
with memory, CPU and wall-clock limits. So no upload can hold a web worker or its memory.
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum
from io import BytesIO
from typing import BinaryIO

from asn1crypto import x509 as asn1_x509
from flask import Flask
from pyhanko.keys import load_cert_from_pemder
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from . import seal_check
from .clinic_key import SealKeyError, clinic_key
from .integrity import PdfStanding, pdf_standing
from .seal_check import TOO_COMPLEX, Limits, SealCheck

log = logging.getLogger(__name__)


class Verdict(IntEnum):
    VALID = 0
    BROKEN = 1
    NOT_STORED = 2


@dataclass(frozen=True)
class Verification:
    verdict: Verdict
    message: str
    record_id: str | None = None
    version: int | None = None
    sha256: str | None = None


def _tsa_roots(app: Flask) -> list[asn1_x509.Certificate]:
    path = app.config.get("SEAL_TSA_ROOT_CERT")
    return [load_cert_from_pemder(path)] if path else []


def _limits(app: Flask) -> Limits:
    config = app.config
    return Limits(memory_mb=int(config["VERIFY_MEMORY_MB"]),
                  cpu_seconds=int(config["VERIFY_CPU_SECONDS"]),
                  wall_seconds=float(config["VERIFY_TIMEOUT_SECONDS"]))


def check_seals(app: Flask, files: list[bytes]) -> list[SealCheck]:
    """The seals of files already read (each under VERIFY_MAX_BYTES), in a bounded child.

    Raises SealKeyError when the clinic has no certificate to check them against.
    """
    key = clinic_key(app, create=False)
    return seal_check.check_seals(
        files, key.certificate.dump(), [root.dump() for root in _tsa_roots(app)], _limits(app)
    )


def _digest(source: BinaryIO) -> tuple[str, int]:
    """SHA-256 and size of a file, read in chunks: an upload is never held whole for it."""
    source.seek(0)
    sha256 = hashlib.file_digest(source, "sha256").hexdigest()
    size = source.tell()
    source.seek(0)
    return sha256, size


def _too_large(size: int, cap: int) -> str:
    return (f"it is larger than {cap // (1024 * 1024)} MB ({size / (1024 * 1024):.1f} MB), so it "
            f"is {TOO_COMPLEX.removeprefix('it is ')} here; a consent PDF from this system is "
            "well under 1 MB")


def verify(app: Flask, source: BinaryIO | bytes) -> Verification:
    """The verdict on a file: first what its SHA-256 says, then (bounded) its seal.

    VALID needs a byte-identical stored version whose hash is in an intact history of its
    record (records/integrity.pdf_standing), and a seal that this clinic's key still
    vouches for. A file whose hash is nowhere is at best NOT_STORED, and only a file under
    VERIFY_MAX_BYTES is parsed to tell; it is parsed in a child process with memory, CPU
    and wall-clock limits (records/seal_check.py), so no file can hold a web worker.
    """
    if isinstance(source, bytes | bytearray):
        source = BytesIO(source)
    sha256, size = _digest(source)
    early, standing = _from_the_hash(app, sha256, size)
    if early is not None:
        return early
    return _from_the_seal(app, standing, sha256, [source.read()])[0]


def verify_all(app: Flask, contents: list[bytes]) -> list[Verification]:
    """The verdicts on several files (a record's PDF versions), with one child for the seals."""
    results: list[Verification | None] = []
    pending: list[tuple[int, PdfStanding, str, bytes]] = []
    for data in contents:
        sha256 = hashlib.sha256(data).hexdigest()
        early, standing = _from_the_hash(app, sha256, len(data))
        results.append(early)
        if early is None:
            pending.append((len(results) - 1, standing, sha256, data))
    if pending:
        try:
            seals = check_seals(app, [data for *_, data in pending])
        except SealKeyError as exc:
            seals = [exc] * len(pending)
        for (index, standing, sha256, _), seal in zip(pending, seals, strict=True):
            results[index] = _verdict(standing, sha256, seal)
    return results


def _from_the_hash(app: Flask, sha256: str, size: int
                   ) -> tuple[Verification | None, PdfStanding | None]:
    """What can be said before parsing: the stored versions and the history, and the size."""
    try:
        standing = pdf_standing(sha256)
    except SQLAlchemyError as exc:
        db.session.rollback()
        log.error("Verification could not read the stored records (%s)", type(exc).__name__)
        return Verification(
            Verdict.BROKEN,
            "CANNOT VERIFY: the stored records could not be read (has `flask --app wsgi db "
            "upgrade` been run?).",
            sha256=sha256,
        ), None
    found = _found(standing, sha256)
    if standing.problem:
        return Verification(Verdict.BROKEN, f"NOT VALID: this file is {_where(standing)}, but "
                            f"{standing.problem}.", **found), standing
    cap = int(app.config["VERIFY_MAX_BYTES"])
    if size > cap:
        return Verification(Verdict.BROKEN, "NOT VALID: it is not a PDF stored for any record, "
                            f"and {_too_large(size, cap)}.", **found), standing
    return None, standing


def _from_the_seal(app: Flask, standing: PdfStanding, sha256: str, files: list[bytes]
                   ) -> list[Verification]:
    try:
        seals = check_seals(app, files)
    except SealKeyError as exc:
        seals = [exc] * len(files)
    return [_verdict(standing, sha256, seal) for seal in seals]


def _found(standing: PdfStanding, sha256: str) -> dict:
    return {"record_id": standing.record_id, "version": standing.version, "sha256": sha256}


def _where(standing: PdfStanding) -> str:
    return f"version {standing.version} of record {standing.record_id}"


def _verdict(standing: PdfStanding, sha256: str, seal: SealCheck | SealKeyError
             ) -> Verification:
    found = _found(standing, sha256)
    if isinstance(seal, SealKeyError):
        return Verification(Verdict.BROKEN, f"CANNOT VERIFY: {seal}.", **found)
    if seal.too_complex:
        return Verification(Verdict.BROKEN, "NOT VALID: it is not a PDF stored for any record, "
                            f"and {TOO_COMPLEX}.", **found)
    if not seal.intact:
        return Verification(Verdict.BROKEN, f"NOT VALID: {seal.problem}.", **found)
    if not seal.trusted:
        if standing.stored:
            return Verification(Verdict.BROKEN, f"NOT VALID: this file is stored as "
                                f"{_where(standing)}, but its seal was made by {seal.signer}, "
                                "not by this clinic's key.", **found)
        return Verification(
            Verdict.NOT_STORED,
            f"NOT OURS: the seal is intact, but it was made by {seal.signer}, "
            "not by this clinic's key.",
            **found,
        )
    if not standing.stored:
        return Verification(
            Verdict.NOT_STORED,
            "NOT A STORED RECORD: the seal is intact and this clinic's, but no stored record "
            "has this PDF (a preview, or a file made elsewhere).",
            **found,
        )
    signed_at = datetime.fromisoformat(seal.signed_at) if seal.signed_at else None
    sealed = f" on {signed_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if signed_at else ""
    kind = {
        None: "seal",
        "trusted": "timestamped seal",
        "untrusted": "seal (its timestamp's authority is not trusted here)",
    }[seal.timestamp]
    message = (f"VALID: record {standing.record_id}, PDF version {standing.version}; the "
               f"clinic's {kind}{sealed} is intact and nothing changed since.")
    if standing.record_changed:
        # The file is what was signed; the database row beside it is not any more.
        message += (" But the stored record was changed after it was written "
                    f"({standing.record_changed}): this PDF still shows what was signed. "
                    "Run `flask --app wsgi audit check`.")
    return Verification(Verdict.VALID, message, **found)
