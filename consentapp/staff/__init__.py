"""The staff side: deny by default. Only the views in access.PUBLIC_ENDPOINTS work signed out."""

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")

# The modules register their views on bp.
from . import (  # noqa: E402,F401
    account,
    admin,
    audit,
    auth,
    dashboard,
    export,
    handover,
    review,
    template_helpers,
    verify,
    views,
)
