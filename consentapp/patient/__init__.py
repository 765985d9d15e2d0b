"""The tablet flow. Nothing here trusts or reveals anything beyond the current draft.

routes     the URL map and the views that are not steps (welcome, start, finish...)
steps      one handler per kind of step (procedures/steps.py), and the journey's two ends
draft      the draft: found through the session, expired when idle, read through DraftData
forms      the patient's WTForms, fixed and built from the definition
signers    who signs (the patient or a representative), interpreter and witness
teach_back the check of understanding
copy_link  the patient's own copy: the QR code on the finish screen and the page it opens
"""

from flask import Blueprint, Flask

from ..models import EventKind
from ..records import jobs
from ..records.patient_copy import LinkState
from . import draft, routes

bp = Blueprint("patient", __name__)
routes.register(bp)


def _vocabulary() -> dict:
    """The enums the patient templates compare with (never bare strings)."""
    return {"EventKind": EventKind, "LinkState": LinkState}


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.template_context_processors.setdefault(bp.name, []).append(_vocabulary)
    # Abandoned drafts hold health answers: the worker loop every deployment runs purges them.
    jobs.add_housekeeping(app, draft.purge_abandoned, draft.PURGE_EVERY_SECONDS)
