"""The verdict on a PDF: its seal, then whether it is a PDF stored for a record.

A verdict has three answers, as the `verify` command's exit code:
0 - the seal is this clinic's, intact and valid, and the file is a PDF stored for a record;
1 - the seal is missing, broken or invalid, or the file was changed after sealing (or the
    clinic's certificate is missing, so nothing can be vouched for);
2 - the seal is intact and valid but no stored record has this file (a preview, or a file
    sealed by another clinic's key).
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC
from enum import IntEnum

from asn1crypto import x509 as asn1_x509
from flask import Flask
from pyhanko.keys import load_cert_from_pemder
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..models import RecordPdf
from .clinic_key import SealKeyError, clinic_key
from .seal import check_seal

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


def verify(app: Flask, data: bytes) -> Verification:
    """The verdict on a file: its seal, then whether it is a PDF stored for a record."""
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        key = clinic_key(app, create=False)
    except SealKeyError as exc:
        return Verification(Verdict.BROKEN, f"CANNOT VERIFY: {exc}.", sha256=sha256)
    seal = check_seal(data, key.certificate, _tsa_roots(app))
    if not seal.intact:
        return Verification(Verdict.BROKEN, f"NOT VALID: {seal.problem}.", sha256=sha256)
    if not seal.trusted:
        return Verification(
            Verdict.NOT_STORED,
            f"NOT OURS: the seal is intact, but it was made by {seal.signer}, "
            "not by this clinic's key.",
            sha256=sha256,
        )
    try:
        stored = db.session.scalar(select(RecordPdf).where(RecordPdf.sha256 == sha256).limit(1))
    except SQLAlchemyError as exc:
        db.session.rollback()
        log.error("Verification could not read the stored records (%s)", type(exc).__name__)
        return Verification(
            Verdict.BROKEN,
            "CANNOT VERIFY: the seal is intact, but the stored records could not be read "
            "(has `flask --app wsgi db upgrade` been run?).",
            sha256=sha256,
        )
    if stored is None:
        return Verification(
            Verdict.NOT_STORED,
            "NOT A STORED RECORD: the seal is intact and this clinic's, but no stored record "
            "has this PDF (a preview, or a file made elsewhere).",
            sha256=sha256,
        )
    sealed = f" on {seal.signed_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if seal.signed_at else ""
    kind = {
        None: "seal",
        "trusted": "timestamped seal",
        "untrusted": "seal (its timestamp's authority is not trusted here)",
    }[seal.timestamp]
    return Verification(
        Verdict.VALID,
        f"VALID: record {stored.record_id}, PDF version {stored.version}; the clinic's "
        f"{kind}{sealed} is intact and nothing changed since.",
        record_id=stored.record_id,
        version=stored.version,
        sha256=sha256,
    )
