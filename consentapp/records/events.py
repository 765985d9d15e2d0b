"""The one way an event is added to a record's history.

Events are append-only facts: who did what to a record, when, and from where. Every part of
the app adds them through append_event(), so the history has one shape and one place where
its integrity rules live.
"""

from datetime import datetime
from typing import Any

from ..extensions import db
from ..models import RecordEvent, utcnow


def append_event(
    record_id: str,
    kind: str,
    actor: str,
    details: dict[str, Any] | None = None,
    *,
    at: datetime | None = None,
) -> RecordEvent:
    """Add an event to the session; the caller's transaction commits it."""
    event = RecordEvent(
        record_id=record_id,
        kind=kind,
        actor=actor,
        created_at=at or utcnow(),
        details=details or {},
    )
    db.session.add(event)
    return event
