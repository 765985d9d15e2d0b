"""A staff member's own account: choosing a new password, and keeping an idle session alive."""

from flask import flash, jsonify, redirect, render_template, url_for
from flask_login import current_user

from .. import accounts, sessions
from ..access import requires
from ..forms import PasswordChangeForm
from ..passwords import verify_password


@requires("own_account")
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        if not verify_password(current_user.password_hash, form.current_password.data):
            form.current_password.errors.append("That is not your current password.")
        elif form.new_password.data == form.current_password.data:
            form.new_password.errors.append("The new password must differ from the current one.")
        else:
            try:
                accounts.change_password(current_user, form.new_password.data)
            except accounts.AccountError as error:
                form.new_password.errors.append(str(error))
            else:
                flash("Your password was changed. Any other device you were signed in on "
                      "is signed out.")
                return redirect(url_for("staff.records"))
    return render_template("staff/password.html", form=form)


@requires("own_account")
def session_status():
    """How long until the automatic sign-out; asking does not count as activity."""
    return jsonify(signed_in=True, remaining_seconds=sessions.seconds_left())


@requires("own_account")
def session_extend():
    """"Stay signed in": the request itself is the activity that resets the idle timer."""
    return jsonify(signed_in=True, remaining_seconds=sessions.seconds_left())
