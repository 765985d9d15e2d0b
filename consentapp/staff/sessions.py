"""Server-side staff sessions: a fresh one at every sign-in, checked on every request.

The signed cookie holds only a random token; the staff_sessions row it hashes to says whether
the session is still alive. So the server itself ends a session after STAFF_IDLE_MINUTES
without activity, when the person signs out or hands the device to a patient, and at once
for every device when an account is deactivated or its password reset.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app, flash, request, session
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select, update

from ..extensions import db
from ..models import SessionEnd, StaffSession, StaffUser, utcnow

SESSION_KEY = "staff_session"
# Asking how long is left must not itself count as activity.
NOT_ACTIVITY = frozenset({"staff.session_status"})

END_MESSAGES = {
    SessionEnd.IDLE: "You were signed out after {minutes} minutes without activity, to keep "
    "patient information private. Please sign in again.",
    SessionEnd.DEACTIVATED: "Your session has ended. Please sign in again.",
    SessionEnd.PASSWORD_CHANGED: "Your session has ended because the password was changed. "
    "Please sign in again.",
}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def idle_limit() -> timedelta:
    return timedelta(minutes=float(current_app.config["STAFF_IDLE_MINUTES"]))


def warning_seconds() -> int:
    """How long before the automatic sign-out the page warns: never more than half the limit."""
    limit = idle_limit().total_seconds()
    return int(min(float(current_app.config["STAFF_IDLE_WARNING_SECONDS"]), limit / 2))


def begin(user: StaffUser) -> None:
    """Sign `user` in with a brand-new session: nothing from the session before survives,
    so a session identifier planted before sign-in is worthless after it."""
    session.clear()
    token = secrets.token_urlsafe(32)
    db.session.add(
        StaffSession(
            token_sha256=_digest(token), user_id=user.id, address=(request.remote_addr or "")[:64]
        )
    )
    db.session.commit()
    session[SESSION_KEY] = token
    login_user(user)


def _row() -> StaffSession | None:
    token = session.get(SESSION_KEY)
    if not isinstance(token, str):
        return None
    return db.session.scalar(
        select(StaffSession).where(StaffSession.token_sha256 == _digest(token))
    )


def current_session_id() -> int | None:
    """The id of this request's live staff session row (what saved searches belong to)."""
    row = _row()
    return row.id if row is not None and row.ended_at is None else None


def _end(row: StaffSession, reason: str) -> None:
    row.ended_at = utcnow()
    row.end_reason = reason


def load_user(user_id: str) -> StaffUser | None:
    """Flask-Login's user loader: the user only while their session row is alive."""
    row = _row()
    if row is None or row.ended_at is not None or str(row.user_id) != user_id:
        return None
    now = utcnow()
    if not row.user.active:
        _end(row, SessionEnd.DEACTIVATED)
    elif now - row.last_seen_at > idle_limit():
        _end(row, SessionEnd.IDLE)
    elif request.endpoint not in NOT_ACTIVITY:
        row.last_seen_at = now
    db.session.commit()
    return row.user if row.ended_at is None else None


def seconds_left() -> int:
    row = _row()
    if row is None or row.ended_at is not None:
        return 0
    remaining = idle_limit() - (utcnow() - row.last_seen_at)
    return max(int(remaining.total_seconds()), 0)


def forget_ended_session() -> None:
    """Tidy a cookie whose session has ended, and tell the person why they must sign in."""
    row = _row()
    if SESSION_KEY not in session and "_user_id" not in session:
        return
    reason = row.end_reason if row is not None else None
    if reason in END_MESSAGES:
        minutes = f"{float(current_app.config['STAFF_IDLE_MINUTES']):g}"
        flash(END_MESSAGES[reason].format(minutes=minutes))
    session.pop(SESSION_KEY, None)
    logout_user()


def end_current(reason: str) -> None:
    row = _row()
    if row is not None and row.ended_at is None:
        _end(row, reason)
        db.session.commit()
    session.pop(SESSION_KEY, None)


def sign_out(reason: str = SessionEnd.SIGNED_OUT) -> None:
    end_current(reason)
    logout_user()
    session.clear()


def end_all_for(user: StaffUser, reason: str, *, keep_current: bool = False) -> int:
    """End every open session of `user` (all devices); the caller commits."""
    query = update(StaffSession).where(
        StaffSession.user_id == user.id, StaffSession.ended_at.is_(None)
    )
    current = _row() if keep_current and request else None
    if current is not None:
        query = query.where(StaffSession.id != current.id)
    result = db.session.execute(
        query.values(ended_at=utcnow(), end_reason=reason),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount


def last_sign_in(user: StaffUser) -> datetime | None:
    return db.session.scalar(
        select(StaffSession.created_at)
        .where(StaffSession.user_id == user.id)
        .order_by(StaffSession.id.desc())
        .limit(1)
    )


def end_on_logout(sender, user, **extra) -> None:
    """Flask-Login's user_logged_out (wired in staff.init_app): any logout_user() ends the
    server-side session too."""
    if SESSION_KEY in session:
        end_current(SessionEnd.SIGNED_OUT)


def hand_over(sender, **extra) -> None:
    """kiosk.entering_patient_mode (wired in staff.init_app): the browser becomes a
    patient's, so a staff session still open on it ends, as handed over."""
    if current_user.is_authenticated:
        end_current(SessionEnd.HANDED_OVER)
        logout_user()
