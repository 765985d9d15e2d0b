"""The tablet flow. Nothing here trusts or reveals anything beyond the current draft."""

from flask import Blueprint

bp = Blueprint("patient", __name__)

from . import views  # noqa: E402,F401  (views register themselves on bp)
