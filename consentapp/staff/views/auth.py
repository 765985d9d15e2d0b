"""Staff sign-in and sign-out, throttled per account and per address.

Every failed sign-in counts against the account and against the client's address, in the
store every process shares (consentapp/rate_limits.py): the attempt is counted before the
password is checked and given back when it was right, so five failures lock an account
however many guesses arrive at once, on whichever worker. The account's key is the very
value the account is looked up by (accounts.sign_in_email), so no spelling of an address
(capitals, spaces, a control character the form strips) is a fresh key for the same account.
"""

import re
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for

from ... import kiosk, rate_limits
from ...webforms import ContinueForm
from .. import accounts, sessions
from ..access import requires
from ..forms import LoginForm
from ..passwords import verify_password

THROTTLED = (
    "Too many failed sign-in attempts. For safety, signing in {who} is paused for a while. "
    "Please wait 15 minutes and try again, or ask an administrator to reset your password."
)
WHO = {"account": "to this account", "address": "from this computer"}
# A path of the staff pages and nothing else: no scheme, host, query, backslash, space or
# control character (a CR or LF in a Location header was a 500).
_STAFF_PATH = re.compile(r"/staff/[A-Za-z0-9._~/-]*")


def _safe_next(target: str | None) -> str:
    """Only a same-site path under /staff/ may be a redirect target after sign-in; a query is
    dropped (access.require_sign_in never puts one there: it could carry patient data)."""
    if target:
        parts = urlsplit(target)
        if (not parts.scheme and not parts.netloc and not parts.path.startswith("//")
                and _STAFF_PATH.fullmatch(parts.path)):
            return parts.path
    return url_for("staff.records")


def _reserve_attempt(email: str) -> rate_limits.Reservation:
    """One entry in each sign-in limit for this attempt, or the limit that is full."""
    config = current_app.config
    return rate_limits.reserve([
        ("address", config["STAFF_LOGIN_LIMIT_PER_ADDRESS"],
         f"staff-sign-in/address/{request.remote_addr or ''}"),
        ("account", config["STAFF_LOGIN_LIMIT_PER_ACCOUNT"], f"staff-sign-in/account/{email}"),
    ])


def login():
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        email = accounts.sign_in_email(form.email.data)
        attempt = _reserve_attempt(email)
        if attempt.refused:
            return render_template("staff/login.html", form=form, error=None,
                                   throttled=THROTTLED.format(who=WHO[attempt.refused])), 429
        user = accounts.find_for_sign_in(email)
        if verify_password(user.password_hash if user else None, form.password.data) and (
            user is not None and user.active
        ):
            attempt.give_back()  # only failures count towards the limits
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
    # Whatever staff pages this browser kept (a shared desktop, or the tablet itself) go.
    return kiosk.clearing_site_data(redirect(url_for("staff.login")))
