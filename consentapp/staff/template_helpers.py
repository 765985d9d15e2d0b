"""What every staff template may use: permission checks, labels, the clinic's local time,
and the idle-logoff settings the warning script reads."""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app

from ..i18n import language_label
from ..models import EventKind
from ..records.document import OUTCOME_LABELS
from ..records.status import STATUS_LABELS
from . import bp, sessions
from .access import can

EVENT_LABELS = {
    EventKind.SIGNED: "Signed by the patient",
    EventKind.SCREENED_OUT: "Screened out: not eligible",
    EventKind.PDF_RENDERED: "PDF version stored",
    EventKind.PDF_RENDER_FAILED: "PDF rendering failed (retried)",
    EventKind.VIEWED: "Viewed",
    EventKind.DOWNLOADED: "PDF downloaded",
    EventKind.APPROVED: "Approved for treatment",
    EventKind.DECLINED: "Declined by clinician",
    EventKind.COUNTERSIGNED: "Countersigned by clinician",
    EventKind.WITHDRAWN: "Consent withdrawn",
    EventKind.PHOTO_CONSENT_WITHDRAWN: "Photo consent withdrawn",
    EventKind.PRINTED: "PDF opened for printing",
    EventKind.EXPORTED: "Exported (FHIR)",
    EventKind.PATIENT_COPY_DOWNLOADED: "Patient downloaded their copy",
}


def clinic_time(moment: datetime | None, with_seconds: bool = False) -> str:
    """A stored (naive UTC) time in the clinic's time zone, with the zone's abbreviation."""
    if moment is None:
        return ""
    zone = ZoneInfo(current_app.config["CLINIC_TIMEZONE"])
    local = moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone)
    return local.strftime("%Y-%m-%d %H:%M:%S %Z" if with_seconds else "%Y-%m-%d %H:%M %Z")


@bp.app_template_filter("clinic_time")
def _clinic_time_filter(moment, with_seconds=False):
    if isinstance(moment, str):  # a time stored in a JSON column, as ISO 8601 naive UTC
        moment = datetime.fromisoformat(moment)
    return clinic_time(moment, with_seconds)


@bp.app_context_processor
def _staff_context() -> dict:
    return {
        "can": can,
        "status_labels": STATUS_LABELS,
        "outcome_labels": OUTCOME_LABELS,
        "event_labels": EVENT_LABELS,
        "language_label": language_label,
        "idle_seconds": lambda: int(sessions.idle_limit().total_seconds()),
        "idle_warning_seconds": sessions.warning_seconds,
    }
