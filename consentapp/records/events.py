"""The one way an event is added to a record's history, and the check that it was kept.

Events are append-only facts: who did what to a record, when, and from where. Every part of
the app adds them through append_event(), so the history has one shape and one place where
its integrity rules live.

Each event stores the SHA-256 of the event before it and of its own content with that link,
so an event edited or deleted behind the app's back (raw SQL) breaks the chain, and
check_chain() names the first event where it breaks.

One chain for the whole database, not one per record: a per-record chain cannot notice that a
record's newest events were deleted (a hidden "viewed" or "withdrawn" has no successor to
complain), while the single chain head below pins the end of the global chain as well. The
price is that appends are serialised, which costs nothing at a clinic's pace: events are human
actions, and every caller commits right after appending.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from ..database import insert_if_missing
from ..extensions import db
from ..models import EventChainHead, RecordEvent, utcnow

GENESIS_HASH = "0" * 64
_HEAD_ID = 1


def canonical_json(value: Any) -> bytes:
    """One byte string per value: sorted keys, no whitespace, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(
    record_id: str,
    kind: str,
    actor: str,
    created_at: datetime,
    details: dict[str, Any],
    prev_hash: str,
) -> str:
    content = {
        "record_id": record_id,
        "kind": kind,
        "actor": actor,
        # Naive UTC to the microsecond, as both SQLite and PostgreSQL store it.
        "created_at": created_at.isoformat(timespec="microseconds"),
        "details": details,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(content)).hexdigest()


def _hash_of(event: RecordEvent) -> str:
    return event_hash(
        event.record_id, event.kind, event.actor, event.created_at, event.details,
        event.prev_hash,
    )


def _lock_chain_head(*, counting: bool = True) -> str:
    """Take the chain head's lock for this transaction and return the newest event's hash.

    The UPDATE comes first because it takes a write lock on both databases (SELECT ... FOR
    UPDATE is a no-op on SQLite), so no other transaction can read the same head meanwhile.
    An append counts itself in the head as it locks it; `counting=False` only takes the
    lock (hold_chain_head).
    """
    bump = (
        update(EventChainHead)
        .where(EventChainHead.id == _HEAD_ID)
        .values(event_count=EventChainHead.event_count + (1 if counting else 0))
    )
    if db.session.execute(bump).rowcount == 0:
        # No head row (the migration makes one; an emptied table does not have it): start
        # the chain. Several first appends may race here, so the insert yields to a winner
        # and everyone then takes the lock through the same UPDATE.
        insert_if_missing(
            EventChainHead,
            {"id": _HEAD_ID, "last_hash": GENESIS_HASH, "last_event_id": None, "event_count": 0},
            key=["id"],
        )
        db.session.execute(bump)
    return db.session.execute(
        select(EventChainHead.last_hash).where(EventChainHead.id == _HEAD_ID)
    ).scalar_one()


def hold_chain_head() -> None:
    """Take the lock every append takes, now, until this transaction ends.

    For a writer that must decide what to write from the newest events: once it holds the
    lock no other event can be appended, so what it reads next is final. (Event ids are
    handed out under this lock too, so they follow the order in which events committed.)
    """
    _lock_chain_head(counting=False)


def events_of(record_id: str, *, through: int | None = None) -> list[RecordEvent]:
    """The record's events in order; with `through`, only those up to that event id."""
    query = select(RecordEvent).where(RecordEvent.record_id == record_id)
    if through is not None:
        query = query.where(RecordEvent.id <= through)
    return list(db.session.scalars(query.order_by(RecordEvent.id)))


def append_event(
    record_id: str,
    kind: str,
    actor: str,
    details: dict[str, Any] | None = None,
    *,
    at: datetime | None = None,
) -> RecordEvent:
    """Add an event, chained to the newest one; the caller's transaction commits it.

    The chain head stays locked until that commit, so callers commit promptly.
    """
    prev_hash = _lock_chain_head()
    created_at = at or utcnow()
    details = details or {}
    event = RecordEvent(
        record_id=record_id,
        kind=kind,
        actor=actor,
        created_at=created_at,
        details=details,
        prev_hash=prev_hash,
        hash=event_hash(record_id, kind, actor, created_at, details, prev_hash),
    )
    db.session.add(event)
    db.session.flush()
    db.session.execute(
        update(EventChainHead)
        .where(EventChainHead.id == _HEAD_ID)
        .values(last_hash=event.hash, last_event_id=event.id)
    )
    return event


MAX_PROBLEMS = 200  # a chain rewritten wholesale would otherwise print every event


@dataclass(frozen=True)
class ChainReport:
    checked: int  # events that check out before the first break (all of them when intact)
    broken_event_id: int | None = None
    problem: str | None = None  # the first break
    problems: tuple[str, ...] = ()  # every break, the first one first
    total: int = 0  # events walked

    @property
    def intact(self) -> bool:
        return self.problem is None


def check_chain(batch_size: int = 1000) -> ChainReport:
    """Walk every event in order; report each one whose hash or link does not hold.

    After a break the walk goes on from the stored hash, so an edited event and a deleted
    one further on are both named, each once.
    """
    expected_prev = GENESIS_HASH
    problems: list[tuple[int | None, str]] = []
    checked = total = 0
    last_id: int | None = None
    after = 0
    while True:
        batch = db.session.scalars(
            select(RecordEvent).where(RecordEvent.id > after).order_by(RecordEvent.id)
            .limit(batch_size)
        ).all()
        if not batch:
            break
        for event in batch:
            if event.prev_hash != expected_prev:
                problems.append((
                    event.id,
                    f"event {event.id} ({event.kind}) does not follow the event before it: "
                    "an earlier event was deleted or its hash was changed",
                ))
            elif _hash_of(event) != event.hash:
                problems.append((
                    event.id, f"event {event.id} ({event.kind}) was changed after it was written"
                ))
            elif not problems:
                checked += 1
            expected_prev = event.hash
            total += 1
            last_id = event.id
        after = batch[-1].id
        db.session.expunge_all()  # a long history need not sit in memory
    head = db.session.get(EventChainHead, _HEAD_ID)
    count = db.session.scalar(select(func.count()).select_from(RecordEvent))
    if head is None:
        if count:
            problems.append((None, "the chain head is missing"))
    elif head.last_hash != expected_prev or head.last_event_id != last_id:
        problems.append((
            head.last_event_id,
            f"the newest event (id {head.last_event_id}) is missing: it was deleted",
        ))
    elif head.event_count != count:
        problems.append((None, f"{head.event_count} events were appended but {count} remain"))
    if not problems:
        return ChainReport(checked, total=total)
    shown = [text for _, text in problems[:MAX_PROBLEMS]]
    if len(problems) > MAX_PROBLEMS:
        shown.append(f"... and {len(problems) - MAX_PROBLEMS} more breaks")
    return ChainReport(checked, problems[0][0], problems[0][1], tuple(shown), total)
