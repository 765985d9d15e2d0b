"""The patient's copy on their own phone: the QR code on the finish screen and the page it opens.

The phone scans the code and opens /copy/<token>. While the link works the page shows a
button and the care the patient takes home (when to call, with the numbers as links a phone
dials, aftercare, before the next visit) in the record's language, and nothing else about
the patient: no name, no answers; the button downloads the signed PDF once. After that, or
after PATIENT_COPY_MINUTES, the link only says it was used or has expired (the care would
tell whoever holds an old link what treatment someone had). Throttled per address.
"""

from io import BytesIO

from flask import current_app, render_template, request, send_file, url_for
from flask_babel import force_locale, get_locale

from ..extensions import db, limiter
from ..models import ConsentRecord
from ..procedures import care, catalog
from ..procedures.schema import Definition
from ..records import patient_copy
from ..records.patient_copy import LinkState
from ..records.render import qr_code
from ..webforms import ContinueForm

# How often the copy page looks again while the PDF is being made (a render takes about a
# second; tests/bench/run.py times sign to PDF).
REFRESH_SECONDS = 3

# 410 Gone: the link existed and will never work again; 404: it never did.
STATUS_CODES = {
    LinkState.READY: 200,
    LinkState.PREPARING: 200,
    LinkState.USED: 410,
    LinkState.EXPIRED: 410,
    LinkState.UNKNOWN: 404,
}


def _base_url() -> str | None:
    """Where the patient's phone can reach this app: PUBLIC_BASE_URL, or the address the
    tablet used when Flask has checked its host against TRUSTED_HOSTS (any other host is
    refused with 400 before a view runs). Never a Host header nobody checked: whoever could
    send one would choose where the QR code sends the patient."""
    config = current_app.config
    if config.get("PUBLIC_BASE_URL"):
        return config["PUBLIC_BASE_URL"]
    if config.get("TRUSTED_HOSTS"):
        return request.host_url
    return None


def for_finish_screen(record_id: str, seed: str = "") -> dict | None:
    """The record's single-use link, as a URL and a QR code to draw (the same each time);
    None when the app does not know an address a phone can trust (the screen says to ask
    the staff)."""
    base = _base_url()
    if base is None:
        return None
    minutes = current_app.config["PATIENT_COPY_MINUTES"]
    token = patient_copy.issue(record_id, minutes, current_app.config["SECRET_KEY"], seed=seed)
    url = base.rstrip("/") + url_for("patient.copy", token=token)
    return {"url": url, "qr": qr_code(url), "minutes": minutes}


def _limit() -> str:
    return current_app.config["PATIENT_COPY_LIMIT"]


# The copy pages' throttle: one budget for the page and its download together, per address
# (applied where patient/routes.py adds them to the URL map).
limited = limiter.shared_limit(_limit, scope="patient-copy")


def care_of(record_id: str, definition: Definition | None = None) -> dict | None:
    """The care sections of a signed record, with the phone numbers stored with it."""
    record = db.session.get(ConsentRecord, record_id)
    if record is None or not record.is_signed:
        return None
    definition = definition or catalog.definition_for(record.definition_sha256)
    return care.care_for(definition, record.clinic_contact)


def _page(state: str, token: str, form: ContinueForm | None = None):
    care_shown, language = None, None
    if state in (LinkState.READY, LinkState.PREPARING):
        record_id = patient_copy.record_of(token)
        if record_id:
            definition = catalog.definition_for(
                db.session.get(ConsentRecord, record_id).definition_sha256
            )
            care_shown, language = care_of(record_id, definition), definition.language
    with force_locale(language or str(get_locale() or "en")):
        page = render_template(
            "patient/copy.html", state=state, form=form or ContinueForm(), care=care_shown,
            refresh_seconds=REFRESH_SECONDS,
        )
    return page, STATUS_CODES[state]


def copy(token: str):
    return _page(patient_copy.state(token), token)


def copy_download(token: str):
    form = ContinueForm()
    if not form.validate_on_submit():
        return _page(patient_copy.state(token), token, form)
    claimed = patient_copy.claim(
        token, address=request.remote_addr or "",
        user_agent=request.user_agent.string or "",
    )
    if claimed.pdf is None:
        return _page(claimed.state, token, form)
    pdf = claimed.pdf
    return send_file(
        BytesIO(pdf.content),
        mimetype="application/pdf",
        as_attachment=True,
        # No name in it: the file may sit in a shared downloads folder.
        download_name=f"signed-consent-{pdf.created_at:%Y%m%d}.pdf",
    )
