"""Who may open what on the staff side: deny by default.

Every staff view needs a signed-in staff member unless its endpoint is in PUBLIC_ENDPOINTS,
and a permission given with @requires(...) that ROLE_MATRIX grants to their role. A view
without @requires is refused to everyone, so forgetting the decorator locks a page, never
opens it. tests/test_staff_access.py walks the URL map against ROLE_MATRIX.
"""

from functools import wraps

from flask import Flask, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from ..models import StaffRole
from . import sessions
from .forms import LoginForm

PUBLIC_ENDPOINTS = frozenset({"staff.login"})

_EVERYONE = frozenset(StaffRole)

# Permission -> the roles that have it. The one place that says who may do what.
ROLE_MATRIX: dict[str, frozenset[str]] = {
    # sign out, change one's own password, keep an idle session alive
    "own_account": _EVERYONE,
    # the dashboard, a record's page and its PDFs; every view and download is audited
    "view_records": _EVERYONE,
    # the dashboard's search as a CSV file (a list of patients leaves the app): audited
    "export_records": frozenset({StaffRole.ADMIN, StaffRole.CLINICIAN}),
    "review": frozenset({StaffRole.CLINICIAN}),
    "countersign": frozenset({StaffRole.CLINICIAN}),
    "record_withdrawal": frozenset({StaffRole.CLINICIAN, StaffRole.FRONTDESK}),
    "hand_over": frozenset({StaffRole.FRONTDESK}),
    # a course's later visit: a check-in (or a new consent) on the tablet, from the record
    "start_check_in": frozenset({StaffRole.FRONTDESK, StaffRole.CLINICIAN}),
    "manage_staff": frozenset({StaffRole.ADMIN}),
    "audit": frozenset({StaffRole.ADMIN}),
    "settings": frozenset({StaffRole.ADMIN}),
}

# What a person whose password was reset may still do before choosing a new one.
PASSWORD_CHANGE_ENDPOINTS = frozenset(
    {"staff.change_password", "staff.logout", "staff.session_status", "staff.session_extend"}
)

def requires(permission: str):
    """Mark a view with the permission it needs (and check it again inside, to be sure)."""
    if permission not in ROLE_MATRIX:
        raise KeyError(f"unknown permission {permission!r}")

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not can(permission):
                abort(403)
            return view(*args, **kwargs)

        wrapper.staff_permission = permission
        return wrapper

    return decorator


def can(permission: str) -> bool:
    return current_user.is_authenticated and current_user.role in ROLE_MATRIX[permission]


def permission_of(endpoint: str, app: Flask | None = None) -> str | None:
    view = (app or current_app).view_functions.get(endpoint)
    return getattr(view, "staff_permission", None)


def require_sign_in():
    """The staff blueprint's gate (before_request, wired in staff.init_app)."""
    endpoint = request.endpoint
    if not current_user.is_authenticated:
        sessions.forget_ended_session()
        if endpoint in PUBLIC_ENDPOINTS:
            return None
        if endpoint == "staff.records" and request.method == "GET" and not request.args:
            # /staff/ itself shows the sign-in form rather than bouncing to another URL.
            return render_template("staff/login.html", form=LoginForm(), error=None)
        # The path only: a query string may hold what was searched for (no patient data in
        # URLs), and a saved search belongs to the session that is over anyway.
        return redirect(url_for("staff.login", next=request.path))
    if endpoint in PUBLIC_ENDPOINTS:
        return None
    if current_user.must_change_password and endpoint not in PASSWORD_CHANGE_ENDPOINTS:
        return redirect(url_for("staff.change_password"))
    permission = permission_of(endpoint)
    if permission is None or not can(permission):
        abort(403)
    return None
