"""What staff decide about a signed record: clinician review, countersignature, withdrawal.

Each decision is one event added with append_event, the status projection brought up to date,
and a render job queued, all in one transaction. The signed PDF is never changed: the worker
renders the record with its events as the next PDF version, and every earlier version stays.
"""

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from ..extensions import db
from ..models import ConsentRecord, EventKind, PhotoKind, RecordEvent, RecordStatus, RenderJob
from .events import append_event, hold_chain_head
from .integrity import RecordChanged, ensure_intact
from .jobs import after_commit
from .signature import Signature
from .status import set_status, status_after

# What each decision means, stored with the event and printed on the PDF.
MEANINGS = {
    EventKind.APPROVED: "Approved for treatment: the clinician reviewed the patient's answers "
    "and the reasons for review, and the patient may be treated.",
    EventKind.DECLINED: "Declined: the clinician reviewed the patient's answers and the patient "
    "must not be treated on the basis of this consent.",
}
COUNTERSIGN_STATEMENT = "I explained this procedure and answered the patient's questions."
PHOTO_WITHDRAWAL_MEANINGS = {
    PhotoKind.CLINICAL: "The patient withdrew consent to clinical before-and-after photos: take no "
    "more photos for their record.",
    PhotoKind.MARKETING: "The patient withdrew consent to the use of their photos in marketing: do "
    "not use them to show the clinic's work.",
}


@dataclass(frozen=True)
class StaffActor:
    """The signed-in staff member making a decision, and where from."""

    email: str
    name: str
    role: str
    address: str = ""


class DecisionRefused(ValueError):
    """Why this decision cannot be made on this record now, in words for staff."""


def current_status(record: ConsentRecord) -> str:
    return status_after(record.outcome, (event.kind for event in record.events))


def is_countersigned(record: ConsentRecord) -> bool:
    return any(event.kind == EventKind.COUNTERSIGNED for event in record.events)


def _require_open(record: ConsentRecord, doing: str) -> None:
    if not record.is_signed:
        raise DecisionRefused(f"This record was never signed, so it cannot be {doing}.")
    if current_status(record) == RecordStatus.WITHDRAWN:
        raise DecisionRefused(f"Consent was withdrawn, so this record cannot be {doing}.")


def refusal_for_changed(changed: RecordChanged) -> str:
    """What staff read when a record no longer matches its chain (no patient data in it)."""
    return (
        "This record's stored content no longer matches what was signed "
        f"({changed.reason}), so nothing was added to it and no PDF was made. Its earlier PDF "
        "versions still show what was signed. Ask the administrator to run "
        "`flask --app wsgi audit check` and restore the database from a backup."
    )


def _record(
    record: ConsentRecord, kind: str, actor: StaffActor, details: dict, check: Callable[[], None]
) -> RecordEvent:
    """Check the decision against the record's newest events and add it, in one transaction.

    The check runs again once the event chain's lock is held: two decisions sent at the same
    moment (two clinicians, a double click) are then judged one after the other, so a record
    is never countersigned twice or reviewed after its withdrawal, and the listing's status
    is derived from every event, the other decision's included.
    """
    check()  # the usual refusal, before taking any lock
    # A decision on a forged record would be rendered and sealed with it: refuse first.
    try:
        ensure_intact(record)
    except RecordChanged as changed:
        raise DecisionRefused(refusal_for_changed(changed)) from None
    record_id = record.id
    hold_chain_head()
    db.session.expire(record, ["events"])
    try:
        check()
    except DecisionRefused:
        db.session.rollback()
        raise
    event = append_event(
        record_id, kind, actor.email, {**details, "role": actor.role, "address": actor.address}
    )
    kinds = db.session.scalars(
        select(RecordEvent.kind).where(RecordEvent.record_id == record_id)
        .order_by(RecordEvent.id)
    ).all()
    set_status(record_id, status_after(record.outcome, kinds))
    db.session.add(RenderJob(record_id=record_id))
    db.session.commit()
    after_commit(record_id)
    return event


def review(record: ConsentRecord, actor: StaffActor, *, decision: str, note: str) -> RecordEvent:
    if decision not in MEANINGS:
        raise DecisionRefused("Please choose approve or decline.")
    return _record(record, decision, actor, {
        "clinician_name": actor.name, "meaning": MEANINGS[decision], "note": note,
    }, check=lambda: _require_open(record, "reviewed"))


def countersign(
    record: ConsentRecord, actor: StaffActor, *, typed_name: str, signature: Signature | None
) -> RecordEvent:
    def check() -> None:
        _require_open(record, "countersigned")
        if is_countersigned(record):
            raise DecisionRefused("This record is already countersigned.")

    return _record(record, EventKind.COUNTERSIGNED, actor, {
        "clinician_name": typed_name,
        "account_name": actor.name,
        "statement": COUNTERSIGN_STATEMENT,
        "signature": signature.as_dict() if signature else None,
    }, check=check)


def withdraw(record: ConsentRecord, actor: StaffActor, *, reason: str) -> RecordEvent:
    return _record(record, EventKind.WITHDRAWN, actor, {
        "reason": reason, "recorded_by_name": actor.name,
    }, check=lambda: _require_open(record, "withdrawn"))


def photo_consent_in_force(record: ConsentRecord, which: str) -> bool:
    """Given at signing and not withdrawn since."""
    given = (record.photo_consent or {}).get(which) is True
    withdrawn = any(
        event.kind == EventKind.PHOTO_CONSENT_WITHDRAWN
        and event.details.get("photo_consent") == which
        for event in record.events
    )
    return given and not withdrawn


def withdraw_photo_consent(record: ConsentRecord, actor: StaffActor, *, which: str) -> RecordEvent:
    """One photo consent withdrawn; the consent to treatment stands (or not) as it was."""
    if which not in PHOTO_WITHDRAWAL_MEANINGS:
        raise DecisionRefused("Please choose which photo consent the patient withdrew.")

    def check() -> None:
        if not record.is_signed:
            raise DecisionRefused("This record was never signed, so it has no photo consent.")
        if not photo_consent_in_force(record, which):
            raise DecisionRefused(
                "That photo consent is not in force, so it cannot be withdrawn."
            )

    return _record(record, EventKind.PHOTO_CONSENT_WITHDRAWN, actor, {
        "photo_consent": which, "meaning": PHOTO_WITHDRAWAL_MEANINGS[which],
        "recorded_by_name": actor.name,
    }, check=check)
