"""The patient's copy on their own phone: the QR code on the finish screen and the page it opens.

The phone scans the code and opens /copy/<token>. The page shows the clinic's name and a
button, nothing about the patient; the button downloads the signed PDF once. After that, or
after PATIENT_COPY_MINUTES, the link says it was used or has expired. Throttled per address.
"""

from io import BytesIO

from flask import current_app, render_template, request, send_file, url_for

from ..extensions import limiter
from ..records import patient_copy
from ..records.patient_copy import LinkState
from ..records.render import qr_code
from ..webforms import ContinueForm

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


def for_finish_screen(record_id: str) -> dict | None:
    """A new single-use link for the record, as a URL and a QR code to draw; None when the
    app does not know an address a phone can trust (the screen says to ask the staff)."""
    base = _base_url()
    if base is None:
        return None
    minutes = current_app.config["PATIENT_COPY_MINUTES"]
    token = patient_copy.issue(record_id, minutes)
    url = base.rstrip("/") + url_for("patient.copy", token=token)
    return {"url": url, "qr": qr_code(url), "minutes": minutes}


def _limit() -> str:
    return current_app.config["PATIENT_COPY_LIMIT"]


# The copy pages' throttle: one budget for the page and its download together, per address
# (applied where patient/routes.py adds them to the URL map).
limited = limiter.shared_limit(_limit, scope="patient-copy")


def _page(state: str, form: ContinueForm | None = None):
    return render_template(
        "patient/copy.html", state=state, form=form or ContinueForm(),
    ), STATUS_CODES[state]


def copy(token: str):
    return _page(patient_copy.state(token))


def copy_download(token: str):
    form = ContinueForm()
    if not form.validate_on_submit():
        return _page(patient_copy.state(token), form)
    claimed = patient_copy.claim(
        token, address=request.remote_addr or "",
        user_agent=request.user_agent.string or "",
    )
    if claimed.pdf is None:
        return _page(claimed.state, form)
    pdf = claimed.pdf
    return send_file(
        BytesIO(pdf.content),
        mimetype="application/pdf",
        as_attachment=True,
        # No name in it: the file may sit in a shared downloads folder.
        download_name=f"signed-consent-{pdf.created_at:%Y%m%d}.pdf",
    )
