"""Administrators: staff accounts (add, edit, deactivate, reset password) and settings.

A temporary password is shown once, in the response to the action that made it, and never
put in a flash message: flashed messages travel in the (signed, not encrypted) cookie.
"""

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from ...extensions import db
from ...models import StaffSession, StaffUser
from ...webforms import ContinueForm
from .. import accounts, sessions
from ..access import ROLE_MATRIX, requires
from ..forms import StaffAccountForm, StaffEditForm
from ..labels import ROLE_LABELS

SIGN_IN_HISTORY = 20


def _user_or_404(user_id: int) -> StaffUser:
    user = db.session.get(StaffUser, user_id)
    if user is None:
        abort(404)
    return user


@requires("manage_staff")
def staff_list():
    users = db.session.scalars(
        select(StaffUser).order_by(StaffUser.active.desc(), StaffUser.email)
    ).all()
    return render_template(
        "staff/admin/staff_list.html", users=users, role_labels=ROLE_LABELS,
        last_sign_in={user.id: sessions.last_sign_in(user) for user in users},
    )


def _temporary_password_page(user: StaffUser, password: str, heading: str):
    return render_template(
        "staff/admin/temporary_password.html", user=user, password=password, heading=heading
    )


@requires("manage_staff")
def staff_new():
    form = StaffAccountForm()
    if form.validate_on_submit():
        try:
            user, password = accounts.create(
                form.email.data, form.role.data, full_name=form.full_name.data
            )
        except accounts.AccountError as error:
            form.email.errors.append(str(error))
        else:
            return _temporary_password_page(user, password, "Account created")
    return render_template("staff/admin/staff_new.html", form=form)


@requires("manage_staff")
def staff_edit(user_id: int):
    user = _user_or_404(user_id)
    form = StaffEditForm(obj=user)
    if form.validate_on_submit():
        try:
            accounts.update(user, full_name=form.full_name.data, role=form.role.data,
                            changed_by=current_user)
        except accounts.AccountError as error:
            form.role.errors.append(str(error))
        else:
            flash(f"Saved {user.email}.")
            return redirect(url_for("staff.staff_list"))
    history = db.session.scalars(
        select(StaffSession).where(StaffSession.user_id == user.id)
        .order_by(StaffSession.id.desc()).limit(SIGN_IN_HISTORY)
    ).all()
    return render_template("staff/admin/staff_edit.html", user=user, form=form,
                           history=history)


@requires("manage_staff")
def staff_deactivate(user_id: int):
    user = _user_or_404(user_id)
    if ContinueForm().validate_on_submit():
        if user.id == current_user.id:
            flash("You cannot deactivate your own account; ask another administrator.")
        else:
            ended = accounts.deactivate(user)
            flash(f"Deactivated {user.email}; {ended} open session(s) ended.")
    return redirect(url_for("staff.staff_edit", user_id=user.id))


@requires("manage_staff")
def staff_reactivate(user_id: int):
    user = _user_or_404(user_id)
    if ContinueForm().validate_on_submit():
        accounts.reactivate(user)
        flash(f"Reactivated {user.email}.")
    return redirect(url_for("staff.staff_edit", user_id=user.id))


@requires("manage_staff")
def staff_reset_password(user_id: int):
    user = _user_or_404(user_id)
    if not ContinueForm().validate_on_submit():
        return redirect(url_for("staff.staff_edit", user_id=user.id))
    if user.id == current_user.id:
        flash("To change your own password, use “Change password”.")
        return redirect(url_for("staff.staff_edit", user_id=user.id))
    return _temporary_password_page(user, accounts.reset_password(user), "Password reset")


@requires("settings")
def settings():
    config = current_app.config
    storage = str(config.get("RATELIMIT_STORAGE_URI", "memory://")).split("://")[0]
    rows = [
        ("Clinic name", config["CLINIC_NAME"], "CLINIC_NAME"),
        ("Clinic phone", config["CLINIC_PHONE"] or "not set", "CLINIC_PHONE"),
        ("Time zone", config["CLINIC_TIMEZONE"], "CLINIC_TIMEZONE"),
        ("Public address", config["PUBLIC_BASE_URL"] or "not set", "PUBLIC_BASE_URL"),
        ("Automatic sign-out after", f"{float(config['STAFF_IDLE_MINUTES']):g} minutes idle",
         "STAFF_IDLE_MINUTES"),
        ("Warning before sign-out", f"{sessions.warning_seconds()} seconds",
         "STAFF_IDLE_WARNING_SECONDS"),
        ("Failed sign-ins allowed per account", config["STAFF_LOGIN_LIMIT_PER_ACCOUNT"],
         "STAFF_LOGIN_LIMIT_PER_ACCOUNT"),
        ("Failed sign-ins allowed per address", config["STAFF_LOGIN_LIMIT_PER_ADDRESS"],
         "STAFF_LOGIN_LIMIT_PER_ADDRESS"),
        ("Sign-in limit storage", storage, "RATELIMIT_STORAGE_URI"),
        ("PDF rendering", config["PDF_RENDER_MODE"], "PDF_RENDER_MODE"),
        ("Secure cookies (HTTPS)", "on" if config["SESSION_COOKIE_SECURE"] else "off",
         "SESSION_COOKIE_SECURE"),
        ("Strict-Transport-Security", f"{config['HSTS_SECONDS']} seconds"
         if config["HSTS_SECONDS"] else "off", "HSTS_SECONDS"),
        ("PDF worker silent before an alarm", f"{config['WORKER_SILENT_SECONDS']} seconds",
         "WORKER_SILENT_SECONDS"),
        ("Backups", f"{config['BACKUP_DIR']}, the newest {config['BACKUP_KEEP']} kept",
         "BACKUP_DIR"),
    ]
    return render_template("staff/admin/settings.html", rows=rows, role_matrix=ROLE_MATRIX,
                           role_labels=ROLE_LABELS)
