"""Staff accounts: create, rename, change role, deactivate, reset and change passwords.

Used by both the admin pages and the command line, so both follow the same rules: one
account per email, passwords checked by passwords.password_problem, and no account is ever
deleted (deactivation ends its sessions at once instead).
"""

from sqlalchemy import func, select

from ..extensions import db
from ..models import SessionEnd, StaffRole, StaffUser, utcnow
from . import sessions
from .passwords import hash_password, password_problem, temporary_password


class AccountError(ValueError):
    """Why an account change was refused, in words for the person making it."""


def normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    if "@" not in email or email.startswith("@") or email.endswith("@") or len(email) > 254:
        raise AccountError(f"'{email}' is not an email address.")
    return email


def sign_in_email(typed: str) -> str:
    """The email a sign-in looks its account up by, from what the form kept of what was
    typed (BaseForm has stripped control characters and spaces): the rate limits key on this
    same value, so every spelling that can reach an account counts against that account."""
    return typed.lower()


def find_for_sign_in(email: str) -> StaffUser | None:
    """The account whose email is exactly `email` (a sign_in_email()), if any."""
    return db.session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email))


def find(email: str) -> StaffUser | None:
    return db.session.scalar(
        select(StaffUser).where(func.lower(StaffUser.email) == email.strip().lower())
    )


def find_or_fail(email: str) -> StaffUser:
    user = find(email)
    if user is None:
        raise AccountError(f"There is no staff account for {email.strip().lower()}.")
    return user


def create(email: str, role: str, *, full_name: str = "", password: str | None = None
           ) -> tuple[StaffUser, str | None]:
    """Create an account; without a password it gets a temporary one (returned) that must be
    changed at the first sign-in."""
    email = normalise_email(email)
    if role not in tuple(StaffRole):
        raise AccountError(f"'{role}' is not a role; choose one of {', '.join(StaffRole)}.")
    if find(email) is not None:
        raise AccountError(f"A staff account for {email} already exists.")
    temporary = None
    if password is None:
        password = temporary = temporary_password()
    else:
        problem = password_problem(password, email=email)
        if problem:
            raise AccountError(problem)
    user = StaffUser(
        email=email, full_name=full_name.strip(), role=role, password_hash=hash_password(password),
        must_change_password=temporary is not None,
    )
    db.session.add(user)
    db.session.commit()
    return user, temporary


def deactivate(user: StaffUser) -> int:
    """Switch the account off and end its sessions on every device; returns how many ended."""
    user.active = False
    user.deactivated_at = utcnow()
    ended = sessions.end_all_for(user, SessionEnd.DEACTIVATED)
    db.session.commit()
    return ended


def reactivate(user: StaffUser) -> None:
    user.active = True
    user.deactivated_at = None
    db.session.commit()


def reset_password(user: StaffUser) -> str:
    """A temporary password that must be changed at the next sign-in; ends all sessions."""
    password = temporary_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    sessions.end_all_for(user, SessionEnd.PASSWORD_CHANGED)
    db.session.commit()
    return password


def change_password(user: StaffUser, new_password: str) -> None:
    """The person's own new password; their other devices are signed out."""
    problem = password_problem(new_password, email=user.email)
    if problem:
        raise AccountError(problem)
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    sessions.end_all_for(user, SessionEnd.PASSWORD_CHANGED, keep_current=True)
    db.session.commit()


def update(user: StaffUser, *, full_name: str, role: str, changed_by: StaffUser) -> None:
    if role not in tuple(StaffRole):
        raise AccountError(f"'{role}' is not a role.")
    if user.id == changed_by.id and role != user.role:
        raise AccountError("You cannot change your own role; ask another administrator.")
    user.full_name = full_name.strip()
    user.role = role
    db.session.commit()
