"""Staff sign-in and sign-out."""

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import login_user, logout_user
from sqlalchemy import func, select
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from ..extensions import db, limiter
from ..forms import BaseForm, ContinueForm, at_most
from ..models import PatientDraft, StaffUser
from ..passwords import verify_password
from . import bp
from .access import require_sign_in

bp.before_request(require_sign_in)


class LoginForm(BaseForm):
    email = EmailField(
        "Email", validators=[DataRequired("Please enter your email."), at_most(254)]
    )
    password = PasswordField(
        "Password", validators=[DataRequired("Please enter your password."), at_most(200)]
    )


def _safe_next(target: str | None) -> str:
    """Only same-site paths under /staff/ may be a redirect target after sign-in."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and parts.path.startswith("/staff/"):
            return target
    return url_for("staff.records")


def _end_patient_mode() -> None:
    draft_id = session.pop("draft_id", None)
    if draft_id:
        draft = db.session.get(PatientDraft, draft_id)
        if draft is not None:
            db.session.delete(draft)
            db.session.commit()
    session.pop("finished", None)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def login():
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        email = form.email.data.lower()
        user = db.session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email))
        if verify_password(user.password_hash if user else None, form.password.data) and (
            user is not None and user.active
        ):
            _end_patient_mode()
            session.clear()  # a fresh session for the signed-in user
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        error = "That email and password do not match an active staff account."
    return render_template("staff/login.html", form=form, error=error)


@bp.post("/logout")
def logout():
    if ContinueForm().validate_on_submit():
        logout_user()
        session.clear()
        flash("You are signed out.")
    return redirect(url_for("staff.login"))
