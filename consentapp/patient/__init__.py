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

from ..records import jobs
from . import draft, routes

bp = Blueprint("patient", __name__)
routes.register(bp)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    # Abandoned drafts hold health answers: the worker loop every deployment runs purges them.
    jobs.add_housekeeping(app, draft.purge_abandoned, draft.PURGE_EVERY_SECONDS)
