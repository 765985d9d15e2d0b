"""record content hashes: one content_hash_recorded event for each record kept before (issue 14)

Revision ID: e9b3c5a27d14
Revises: d4e1a7c0f914
Create Date: 2026-12-02 09:10:00.000000

From issue 14 on, the `signed` or `screened_out` event of every new record carries the
SHA-256 of the record's canonical content (consentapp/records/content.py), and `audit check`,
rendering, decisions and `verify` refuse a record whose row no longer hashes to it. Records
written before that have no such hash, so this migration computes it once from each row as
it stands now and appends a `content_hash_recorded` event carrying it to the chain: such
records are trusted as of this migration (an edit made before it cannot be told apart).

The content's definition (version 1) and the event hash are copied here on purpose: a
migration must compute what it computed the day it ran, whatever the app's code becomes.
Downgrading keeps the events: they are facts in the chain, and older code ignores them.
"""
import hashlib
import json
from datetime import UTC, date, datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e9b3c5a27d14'
down_revision = 'd4e1a7c0f914'
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64
CONTENT_VERSION = 1
REASON = ("Recorded by the migration record_content_hashes: this record was kept before "
          "content hashes were, and is trusted as it stood at this migration.")
# Version 1 of the canonical content: every column of consent_records, typed as the ORM reads
# them (dates and times as ISO strings, JSON as parsed JSON).
JSON_COLUMNS = ("answers", "outcome_reasons", "acknowledged_risks", "accepted_statements",
                "signature", "representative", "interpreter", "witness", "teach_back",
                "esign_agreement", "photo_consent")
DATE_COLUMNS = ("patient_dob",)
DATETIME_COLUMNS = ("signed_at", "completed_at")
TEXT_COLUMNS = ("id", "submission_key", "procedure_slug", "procedure_title",
                "definition_version", "definition_sha256", "language", "patient_name",
                "patient_name_search", "patient_contact", "outcome", "signer_name",
                "signature_method", "user_agent")


def _canonical_json(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _plain(value):
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _content_sha256(row):
    content = {name: _plain(getattr(row, name))
               for name in (*TEXT_COLUMNS, *JSON_COLUMNS, *DATE_COLUMNS, *DATETIME_COLUMNS)}
    document = {"content_version": CONTENT_VERSION, "record": content}
    return hashlib.sha256(_canonical_json(document)).hexdigest()


def _event_hash(record_id, kind, actor, created_at, details, prev_hash):
    content = {
        "record_id": record_id,
        "kind": kind,
        "actor": actor,
        "created_at": created_at.isoformat(timespec="microseconds"),
        "details": details,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(_canonical_json(content)).hexdigest()


def upgrade():
    records = sa.table(
        'consent_records',
        *(sa.column(name, sa.String()) for name in TEXT_COLUMNS),
        *(sa.column(name, sa.JSON()) for name in JSON_COLUMNS),
        *(sa.column(name, sa.Date()) for name in DATE_COLUMNS),
        *(sa.column(name, sa.DateTime()) for name in DATETIME_COLUMNS),
    )
    events = sa.table(
        'record_events',
        sa.column('id', sa.Integer()),
        sa.column('record_id', sa.String()),
        sa.column('kind', sa.String()),
        sa.column('actor', sa.String()),
        sa.column('created_at', sa.DateTime()),
        sa.column('details', sa.JSON()),
        sa.column('prev_hash', sa.String()),
        sa.column('hash', sa.String()),
    )
    head = sa.table(
        'event_chain_head',
        sa.column('id', sa.Integer()),
        sa.column('last_hash', sa.String()),
        sa.column('last_event_id', sa.Integer()),
        sa.column('event_count', sa.Integer()),
    )
    connection = op.get_bind()
    hashed = {
        record_id for record_id, details in connection.execute(
            sa.select(events.c.record_id, events.c.details)
            .where(events.c.kind.in_(("signed", "screened_out", "content_hash_recorded")))
        )
        if (details or {}).get("content_sha256")
    }
    pending = [row for row in connection.execute(sa.select(records).order_by(records.c.id))
               if row.id not in hashed]
    if not pending:
        return
    chain = connection.execute(sa.select(head).where(head.c.id == 1)).first()
    if chain is None:
        last = connection.execute(
            sa.select(events.c.id, events.c.hash).order_by(events.c.id.desc()).limit(1)
        ).first()
        count = connection.execute(sa.select(sa.func.count()).select_from(events)).scalar()
        connection.execute(head.insert().values(
            id=1, last_hash=last.hash if last else GENESIS_HASH,
            last_event_id=last.id if last else None, event_count=count,
        ))
        chain = connection.execute(sa.select(head).where(head.c.id == 1)).first()
    prev_hash, last_id, count = chain.last_hash, chain.last_event_id, chain.event_count
    now = datetime.now(UTC).replace(tzinfo=None)
    for row in pending:
        details = {"content_sha256": _content_sha256(row), "content_version": CONTENT_VERSION,
                   "reason": REASON}
        own = _event_hash(row.id, "content_hash_recorded", "system", now, details, prev_hash)
        connection.execute(events.insert().values(
            record_id=row.id, kind="content_hash_recorded", actor="system", created_at=now,
            details=details, prev_hash=prev_hash, hash=own,
        ))
        last_id = connection.execute(
            sa.select(events.c.id).where(events.c.hash == own)  # hashes are unique
        ).scalar_one()
        prev_hash, count = own, count + 1
    connection.execute(head.update().where(head.c.id == 1).values(
        last_hash=prev_hash, last_event_id=last_id, event_count=count,
    ))


def downgrade():
    pass
