"""Whether a record still is what was signed: its content, its PDFs and its events.

The event chain (records/events.py) proves that no event was edited or deleted; this
module ties the rest of the record to it:
- the record row's content must hash to the `content_sha256` its first event carries
  (records/content.py), and the stored definition must hash to the `definition_sha256`
  the record names, since that is what the patient was shown;
- each stored PDF version's bytes must hash to the `sha256` of its `pdf_rendered` event,
  each such event must have its PDF, and no PDF row may lack one.

`audit_database()` checks every record that way beside the whole chain (`flask --app wsgi
audit check`); `ensure_intact()` checks one record, and its own events' links in the chain,
before anything is rendered, sealed or decided about it; `pdf_standing()` is what `verify`
asks about one stored PDF. The words say which record and what is wrong, never a patient's
name or answer, so they can go into logs, job rows and events.
"""

import hashlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import select

from ..extensions import db
from ..models import (
    ConsentRecord,
    DefinitionSnapshot,
    EventChainHead,
    EventKind,
    RecordEvent,
    RecordPdf,
)
from .content import FIELDS, content_sha256
from .events import GENESIS_HASH, check_chain, event_hash

# The events that can carry a record's content hash, in the order they are believed: the
# record's own first event, else the migration's, for records signed before hashes were kept.
CONTENT_EVENTS = (EventKind.SIGNED, EventKind.SCREENED_OUT, EventKind.CONTENT_HASH_RECORDED)
_KINDS_READ = (*CONTENT_EVENTS, EventKind.PDF_RENDERED, EventKind.VISIT_CHECKED_IN)
BATCH = 500


class RecordChanged(Exception):
    """The record no longer matches its chain; `reason` names what, with no patient data."""

    def __init__(self, record_id: str, reason: str):
        super().__init__(f"record {record_id}: {reason}")
        self.record_id = record_id
        self.reason = reason


def _hash_of(event: RecordEvent) -> str:
    return event_hash(event.record_id, event.kind, event.actor, event.created_at,
                      event.details, event.prev_hash)


def _definition_problem(sha256: str, snapshots: dict[str, str | None]) -> str | None:
    if sha256 not in snapshots:
        row = db.session.get(DefinitionSnapshot, sha256)
        snapshots[sha256] = None if row is None else hashlib.sha256(
            row.source.encode("utf-8")
        ).hexdigest()
    if snapshots[sha256] != sha256:
        return (f"the definition it was shown (sha256 {sha256[:12]}) no longer matches "
                "its hash: its stored text was changed")
    return None


def content_problems(record: ConsentRecord, events: list[RecordEvent]) -> list[str]:
    """The record row against the content hash its first event carries."""
    carrier = next(
        (event for kind in CONTENT_EVENTS for event in events
         if event.kind == kind and event.details.get("content_sha256")),
        None,
    )
    if carrier is None:
        return ["it has no content hash in the chain (no signed, screened_out or "
                "content_hash_recorded event carries one)"]
    version = carrier.details.get("content_version")
    if version not in FIELDS:
        return [f"its {carrier.kind} event (event {carrier.id}) names an unknown content "
                f"version {version!r}"]
    if content_sha256(record, version) != carrier.details["content_sha256"]:
        return [f"its content no longer matches the hash in its {carrier.kind} event "
                f"(event {carrier.id}): the record was changed after it was written"]
    problems = []
    # Each visit's check-in carries the record's hash as it stood then (records/course.py).
    for visit in events:
        if visit.kind != EventKind.VISIT_CHECKED_IN:
            continue
        visit_version = visit.details.get("record_content_version")
        if visit_version not in FIELDS or content_sha256(record, visit_version) != \
                visit.details.get("record_content_sha256"):
            problems.append(f"its visit check-in (event {visit.id}) does not carry the "
                            "record's content hash: the record or the visit was changed")
    return problems


def pdf_problems(events: list[RecordEvent], pdfs: list[tuple[int, str]]) -> list[str]:
    """Stored PDF versions (version, SHA-256 of the bytes) against their pdf_rendered events."""
    rendered = {}
    for event in events:
        if event.kind == EventKind.PDF_RENDERED:
            rendered[event.details.get("version")] = event
    stored = dict(pdfs)
    problems = []
    for version, event in sorted(rendered.items(), key=lambda item: str(item[0])):
        if version not in stored:
            problems.append(f"PDF version {version} is missing (event {event.id} recorded "
                            "it): it was deleted")
        elif stored[version] != event.details.get("sha256"):
            problems.append(f"PDF version {version} no longer matches the SHA-256 in its "
                            f"pdf_rendered event (event {event.id}): its bytes were changed")
    for version in sorted(set(stored) - set(rendered)):
        problems.append(f"PDF version {version} has no pdf_rendered event: it was added "
                        "behind the app's back")
    return problems


def _link_problems(events: list[RecordEvent]) -> list[str]:
    """The record's own events: each still hashes to itself and is linked to its neighbours.

    The whole chain is walked by `audit check`; before a render or a decision, checking the
    record's events and the links on either side of each is enough to know that none of
    them was edited, deleted or replaced (a replaced event must break a link next to it).
    """
    problems = []
    head = db.session.get(EventChainHead, 1)
    for event in events:
        if _hash_of(event) != event.hash:
            problems.append(f"event {event.id} ({event.kind}) was changed after it was written")
            continue
        before = db.session.scalar(
            select(RecordEvent.hash).where(RecordEvent.id < event.id)
            .order_by(RecordEvent.id.desc()).limit(1)
        )
        if event.prev_hash != (before or GENESIS_HASH):
            problems.append(f"event {event.id} ({event.kind}) does not follow the event "
                            "before it: an earlier event was deleted or changed")
        after = db.session.scalar(
            select(RecordEvent.prev_hash).where(RecordEvent.id > event.id)
            .order_by(RecordEvent.id).limit(1)
        )
        newest = head is not None and head.last_event_id == event.id
        if after is None and not (newest and head.last_hash == event.hash):
            problems.append(f"event {event.id} ({event.kind}) is not where the chain ends: "
                            "later events were deleted")
        elif after is not None and after != event.hash:
            problems.append(f"the event after event {event.id} ({event.kind}) does not "
                            "follow it: it was deleted or changed")
    return problems


def _stored_pdfs(record_id: str) -> list[tuple[int, str]]:
    rows = db.session.execute(
        select(RecordPdf.version, RecordPdf.content).where(RecordPdf.record_id == record_id)
    )
    return [(version, hashlib.sha256(content).hexdigest()) for version, content in rows]


def _events(record_id: str) -> list[RecordEvent]:
    return list(db.session.scalars(
        select(RecordEvent).where(RecordEvent.record_id == record_id).order_by(RecordEvent.id)
    ))


def record_problems(record: ConsentRecord) -> list[str]:
    """Everything wrong with one record: content, definition, PDFs and its events' links."""
    events = _events(record.id)
    problems = _link_problems(events)
    problems += content_problems(record, events)
    definition = _definition_problem(record.definition_sha256, {})
    if definition:
        problems.append(definition)
    problems += pdf_problems(events, _stored_pdfs(record.id))
    return problems


def ensure_intact(record: ConsentRecord) -> None:
    """Raise RecordChanged unless the record is exactly what its chain says it is."""
    problems = record_problems(record)
    if problems:
        raise RecordChanged(record.id, problems[0])


# -- one stored PDF, for verify ------------------------------------------------------------------


@dataclass(frozen=True)
class PdfStanding:
    """What the chain says about a file whose SHA-256 is known."""

    record_id: str | None = None
    version: int | None = None
    stored: bool = False  # a record_pdfs row has exactly these bytes
    problem: str | None = None  # its history is broken (None: the chain vouches for it)
    record_changed: str | None = None  # the record row no longer matches (the PDF may)


def pdf_standing(sha256: str) -> PdfStanding:
    """Find the file among stored versions and in the chain; check the history around it."""
    rows = db.session.execute(
        select(RecordPdf.record_id, RecordPdf.version, RecordPdf.content)
        .where(RecordPdf.sha256 == sha256)
    ).all()
    stored = next(((record_id, version) for record_id, version, content in rows
                   if hashlib.sha256(content).hexdigest() == sha256), None)
    rendered = db.session.scalars(
        select(RecordEvent).where(
            RecordEvent.kind == EventKind.PDF_RENDERED,
            RecordEvent.details["sha256"].as_string() == sha256,
        ).order_by(RecordEvent.id)
    ).all()
    if stored is None and not rendered:
        return PdfStanding()
    if stored is not None:
        record_id, version = stored
        event = next((e for e in rendered if e.record_id == record_id
                      and e.details.get("version") == version), None)
        if event is None:
            return PdfStanding(record_id, version, stored=True, problem=(
                "it is stored, but no pdf_rendered event in the record's history carries "
                "its SHA-256: the stored copy or the history was changed"))
    else:
        event = rendered[0]
        record_id, version = event.record_id, event.details.get("version")
    record = db.session.get(ConsentRecord, record_id)
    events = _events(record_id)
    first = [e for e in events if e.kind in CONTENT_EVENTS][:1]
    problems = _link_problems([*first, event])
    if record is None:
        problems.append("its record is gone")
    if problems:
        return PdfStanding(record_id, version, stored is not None, problem=problems[0])
    if stored is None:
        return PdfStanding(record_id, version, problem=(
            "its stored copy was deleted from the database (the record's history still "
            "lists it)"))
    changed = content_problems(record, events) or [
        problem for problem in [_definition_problem(record.definition_sha256, {})] if problem
    ]
    return PdfStanding(record_id, version, stored=True,
                       record_changed=changed[0] if changed else None)


# -- the whole database, for `audit check` ------------------------------------------------------


@dataclass
class AuditReport:
    events: int = 0
    chain_checked: int = 0  # events that check out before the chain's first break
    records: int = 0
    pdfs: int = 0
    chain_problems: list[str] = field(default_factory=list)
    record_problems: list[tuple[str, str]] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not (self.chain_problems or self.record_problems)


def _batches(query, size: int) -> Iterator[list]:
    batch = []
    for row in db.session.scalars(query.execution_options(yield_per=size)):
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def audit_database() -> AuditReport:
    """The chain, then every record against it, a batch of records at a time."""
    chain = check_chain()
    report = AuditReport(events=chain.total, chain_checked=chain.checked,
                         chain_problems=list(chain.problems))
    snapshots: dict[str, str | None] = {}
    ids = list(db.session.scalars(select(ConsentRecord.id).order_by(ConsentRecord.id)))
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        records = db.session.scalars(
            select(ConsentRecord).where(ConsentRecord.id.in_(chunk))
        ).all()
        events: dict[str, list[RecordEvent]] = defaultdict(list)
        for event in db.session.scalars(
            select(RecordEvent).where(RecordEvent.record_id.in_(chunk),
                                      RecordEvent.kind.in_(_KINDS_READ))
            .order_by(RecordEvent.id)
        ):
            events[event.record_id].append(event)
        pdfs: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for record_id, version, content in db.session.execute(
            select(RecordPdf.record_id, RecordPdf.version, RecordPdf.content)
            .where(RecordPdf.record_id.in_(chunk))
            .execution_options(yield_per=50)
        ):
            pdfs[record_id].append((version, hashlib.sha256(content).hexdigest()))
        for record in sorted(records, key=lambda item: item.id):
            problems = content_problems(record, events[record.id])
            definition = _definition_problem(record.definition_sha256, snapshots)
            if definition:
                problems.append(definition)
            problems += pdf_problems(events[record.id], pdfs[record.id])
            report.record_problems += [(record.id, problem) for problem in problems]
            report.pdfs += len(pdfs[record.id])
        report.records += len(records)
        db.session.expunge_all()  # a clinic's whole history need not sit in memory
    return report
