"""Staff passwords: argon2id hashes, the rules for new passwords, temporary passwords.

The rules follow NIST SP 800-63B: long enough, not a known common password, not the
account's own email; no composition rules ("one digit, one symbol") and no expiry.
"""

import secrets
from functools import cache
from importlib.resources import files

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 200  # argon2 takes any length; this only bounds the work per request

_hasher = PasswordHasher()
# Checked when the email is unknown, so a wrong email takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
# No 0/o, 1/l/i: a temporary password is read out or copied from a screen.
_TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list (see consentapp/staff/common_passwords.py for how it is made)."""
    text = files("consentapp").joinpath("data/common-passwords.txt").read_text("utf-8")
    return frozenset(line for line in text.splitlines() if line)


def password_problem(password: str, *, email: str = "") -> str | None:
    """Why a new password cannot be used, in words for the person choosing it; None if fine."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"The password must be at least {MIN_PASSWORD_LENGTH} characters long."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"The password must be at most {MAX_PASSWORD_LENGTH} characters long."
    folded = password.casefold()
    if folded in common_passwords() or folded.strip() in common_passwords():
        return "That password is on a list of commonly used passwords. Please choose another."
    local_part = email.casefold().split("@")[0]
    if email and (folded == email.casefold() or (len(local_part) >= 4 and local_part in folded)):
        return "The password must not contain your email address. Please choose another."
    return None


def temporary_password() -> str:
    """Four groups of four, e.g. 'k7qm-x2pd-9hrt-w4nz': about 79 bits, easy to copy."""
    groups = ("".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(4)) for _ in range(4))
    return "-".join(groups)
