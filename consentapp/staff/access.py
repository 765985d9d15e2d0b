"""Who may open what on the staff side."""

from functools import wraps

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user

from ..extensions import db, login_manager
from ..models import StaffUser

PUBLIC_ENDPOINTS = frozenset({"staff.login"})


@login_manager.user_loader
def load_user(user_id: str) -> StaffUser | None:
    try:
        return db.session.get(StaffUser, int(user_id))
    except ValueError:
        return None


def require_sign_in():
    """before_request for the staff blueprint: every view needs a signed-in staff member."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        if request.endpoint == "staff.records" and request.method == "GET" and not request.args:
            # /staff/ itself shows the sign-in form rather than bouncing to another URL.
            from .auth import LoginForm

            return render_template("staff/login.html", form=LoginForm(), error=None)
        return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))
    return None


def roles_required(*roles: str):
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator
