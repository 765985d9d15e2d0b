"""Verification codes: the short code (and QR code) printed on every page of a record's PDF.

The code is derived from the record id with a keyed hash, so it reveals nothing about the
patient and cannot be guessed from a record id; it is stored the first time it is made, so
it keeps working if the key is ever rotated. Which page opens a code is the staff side's
business: it says so with init_app(app, path_for=...); records know no URLs.
"""

import base64
import hashlib
import hmac
from collections.abc import Callable

from flask import Flask, current_app
from sqlalchemy import select

from ..extensions import db
from ..models import VerificationCode

CODE_LENGTH = 10  # base32: 50 bits, plenty for a clinic's records, short enough to type
_PATH_FOR = "consent_verification_path"


def derive_code(record_id: str, key: str) -> str:
    digest = hmac.new(key.encode(), f"verification-code:{record_id}".encode(), hashlib.sha256)
    return base64.b32encode(digest.digest()).decode()[:CODE_LENGTH]


def _stored_code(record_id: str) -> str | None:
    return db.session.scalar(
        select(VerificationCode.code).where(VerificationCode.record_id == record_id)
    )


def code_for(record_id: str) -> str:
    """The record's code: the stored one, else the one remember_code() will store."""
    return _stored_code(record_id) or derive_code(record_id, current_app.config["SECRET_KEY"])


def remember_code(record_id: str, code: str) -> None:
    """Add the code to the session (the caller commits) unless it is stored already.

    Separate from code_for() so the insert, and on SQLite the database's write lock, comes
    after rendering, not before a second of it.
    """
    if _stored_code(record_id) is None:
        db.session.add(VerificationCode(code=code, record_id=record_id))


def record_id_for(code: str) -> str | None:
    normalised = "".join(code.split()).upper()
    return db.session.scalar(
        select(VerificationCode.record_id).where(VerificationCode.code == normalised)
    )


def init_app(app: Flask, *, path_for: Callable[[str], str]) -> None:
    """`path_for(code)` is the path of the page that opens a code (the staff side's)."""
    app.extensions[_PATH_FOR] = path_for


def verification_url(code: str) -> str:
    """What the QR code holds: the page for the code, absolute when the base is known."""
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    return f"{base}{current_app.extensions[_PATH_FOR](code)}"
