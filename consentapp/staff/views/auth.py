"""Staff sign-in and sign-out, throttled per account and per address."""

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_limiter.util import get_remote_address
from sqlalchemy import func, select

from ... import kiosk
from ...extensions import db, limiter
from ...models import StaffUser
from ...webforms import ContinueForm
from .. import sessions
from ..access import requires
from ..forms import LoginForm
from ..passwords import verify_password

THROTTLED = (
    "Too many failed sign-in attempts. For safety, signing in {who} is paused for a while. "
    "Please wait 15 minutes and try again, or ask an administrator to reset your password."
)


def _safe_next(target: str | None) -> str:
    """Only same-site paths under /staff/ may be a redirect target after sign-in."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and parts.path.startswith("/staff/"):
            return target
    return url_for("staff.records")


def _account_key() -> str:
    return "account:" + request.form.get("email", "").strip().lower()[:254]


def _failed(response) -> bool:
    # A successful sign-in redirects; only failures count towards the limits.
    return response.status_code != 302


@limiter.limit(
    lambda: current_app.config["STAFF_LOGIN_LIMIT_PER_ACCOUNT"], key_func=_account_key,
    methods=["POST"], deduct_when=_failed, error_message=THROTTLED.format(who="to this account"),
)
@limiter.limit(
    lambda: current_app.config["STAFF_LOGIN_LIMIT_PER_ADDRESS"], key_func=get_remote_address,
    methods=["POST"], deduct_when=_failed,
    error_message=THROTTLED.format(who="from this computer"),
)
def login():
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        email = form.email.data.lower()
        user = db.session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email))
        if verify_password(user.password_hash if user else None, form.password.data) and (
            user is not None and user.active
        ):
            kiosk.leave_patient_mode()
            sessions.begin(user)
            if user.must_change_password:
                flash("Please choose your own password before you go on.")
                return redirect(url_for("staff.change_password"))
            return redirect(_safe_next(request.args.get("next")))
        error = "That email and password do not match an active staff account."
    return render_template("staff/login.html", form=form, error=error)


def too_many_attempts(error):
    """The sign-in page again, saying why (the staff blueprint's 429 handler)."""
    form = LoginForm()
    return render_template("staff/login.html", form=form, error=None,
                           throttled=error.description), 429


@requires("own_account")
def logout():
    if ContinueForm().validate_on_submit():
        sessions.sign_out()
        flash("You are signed out.")
    return redirect(url_for("staff.login"))
