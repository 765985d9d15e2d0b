"""The app as gunicorn serves it for the benchmark, plus two views to compare a step page with.

Configured from the environment like production (DATABASE_URL, SECRET_KEY, ...).
"""

import os

from flask import Blueprint

from consentapp import create_app
from consentapp.patient.draft import current_draft

hello = Blueprint("bench_hello", __name__)


@hello.get("/bench/hello")
def hello_world():
    # The worker's pid lets the benchmark wait until every worker has booted.
    return "Hello, world!", {"X-Worker-Pid": str(os.getpid())}


@hello.get("/bench/draft")
def draft_only():
    """What every step page does before its template: find the patient's draft."""
    draft = current_draft()
    return "A draft." if draft is not None else "No draft."


app = create_app()
app.register_blueprint(hello)
