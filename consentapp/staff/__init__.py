"""The staff side: deny by default. Only the views in PUBLIC_ENDPOINTS work signed out."""

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")

from . import auth, verify, views  # noqa: E402,F401  (views register themselves on bp)
