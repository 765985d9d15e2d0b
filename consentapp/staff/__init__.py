"""The staff side: deny by default. Only the views in access.PUBLIC_ENDPOINTS work signed out.

routes      the URL map                      views/     the pages, grouped by job
access      who may open what (ROLE_MATRIX)  sessions   server-side sessions, idle sign-out
accounts    creating and changing accounts   passwords  argon2 hashes and the password rules
forms       every staff form                 labels     the staff pages' words
"""

from flask import Blueprint, Flask
from flask_login import user_logged_out

from .. import kiosk
from ..extensions import login_manager
from ..records import verification
from . import access, routes, sessions, template_helpers

bp = Blueprint("staff", __name__, url_prefix="/staff")
routes.register(bp)


def _verify_paths(app: Flask):
    """The path of the staff page that opens a verification code (what the QR code on every
    PDF page holds), from the URL map alone: PDFs are rendered by the worker, outside any
    request, and the same record must always print the same path."""

    def path_for(code: str) -> str:
        # Bound to a host only because werkzeug needs one; the host is not part of a path.
        return app.url_map.bind("localhost").build("staff.verify_record", {"code": code})

    return path_for


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    # The gate and the template helpers, for this blueprint's requests only.
    app.before_request_funcs.setdefault(bp.name, []).append(access.require_sign_in)
    app.template_context_processors.setdefault(bp.name, []).append(
        template_helpers.staff_context
    )
    login_manager.user_loader(sessions.load_user)
    user_logged_out.connect(sessions.end_on_logout, app)
    kiosk.entering_patient_mode.connect(sessions.hand_over, app)
    verification.init_app(app, path_for=_verify_paths(app))
