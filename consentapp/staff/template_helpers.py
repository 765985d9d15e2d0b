"""What every staff template may use: permission checks, labels, the records' languages, and
the idle-logoff settings the warning script reads. Registered for the staff blueprint only
(staff.init_app); the clinic_time filter is the app's (clinic_time.py)."""

from ..i18n import language_label
from ..models import RecordStatus
from ..records.search import Sort
from . import sessions
from .access import can
from .labels import EVENT_LABELS, OUTCOME_LABELS, STATUS_LABELS


def staff_context() -> dict:
    return {
        "can": can,
        "RecordStatus": RecordStatus,
        "Sort": Sort,
        "status_labels": STATUS_LABELS,
        "outcome_labels": OUTCOME_LABELS,
        "event_labels": EVENT_LABELS,
        "language_label": language_label,
        "idle_seconds": lambda: int(sessions.idle_limit().total_seconds()),
        "idle_warning_seconds": sessions.warning_seconds,
    }
