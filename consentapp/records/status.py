"""A record's status for staff, derived from its screening outcome and its events.

The status is a projection: `status_after` replays events onto the outcome, and the record's
RecordListing row keeps the result (records are never updated) so the dashboard can count
and filter 100,000 records by status through an index.
"""

from collections.abc import Iterable

from ..extensions import db
from ..models import ConsentRecord, EventKind, RecordListing, RecordOutcome, RecordStatus

# The event kinds that move a record from one status to another.
STATUS_EVENTS = frozenset({EventKind.APPROVED, EventKind.DECLINED, EventKind.WITHDRAWN})


def initial_status(outcome: str) -> str:
    return {
        RecordOutcome.ELIGIBLE: RecordStatus.SIGNED,
        RecordOutcome.NEEDS_REVIEW: RecordStatus.NEEDS_REVIEW,
        RecordOutcome.NOT_ELIGIBLE: RecordStatus.NOT_ELIGIBLE,
    }[outcome]


def status_after(outcome: str, event_kinds: Iterable[str]) -> str:
    """Replay a record's events: the latest review counts, and withdrawal is final."""
    status = initial_status(outcome)
    for kind in event_kinds:
        if status == RecordStatus.WITHDRAWN:
            break
        if kind == EventKind.WITHDRAWN:
            status = RecordStatus.WITHDRAWN
        elif kind == EventKind.APPROVED:
            status = RecordStatus.SIGNED
        elif kind == EventKind.DECLINED:
            status = RecordStatus.DECLINED
    return status


def add_listing(record: ConsentRecord, **course) -> None:
    """The new record's listing row, in the transaction that commits the record (`course`:
    the course's columns, records.course.listing_columns)."""
    db.session.add(RecordListing(
        **course,
        record_id=record.id,
        status=initial_status(record.outcome),
        patient_name_search=record.patient_name_search,
        patient_dob=record.patient_dob,
        procedure_slug=record.procedure_slug,
        completed_at=record.completed_at,
    ))


def set_status(record_id: str, status: str) -> None:
    """Bring the listing's status up to date, in the caller's transaction."""
    db.session.get(RecordListing, record_id).status = status
