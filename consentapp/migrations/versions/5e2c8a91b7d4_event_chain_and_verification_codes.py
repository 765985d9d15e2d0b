"""event hash chain and verification codes

Revision ID: 5e2c8a91b7d4
Revises: 27a76eced181
Create Date: 2026-11-24 09:30:00.000000

Existing events are chained here, in id order, with the same content hash the app computes
(copied below: a migration must not change when the app's code does later).
"""
import hashlib
import json

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e2c8a91b7d4'
down_revision = '27a76eced181'
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64


def _event_hash(record_id, kind, actor, created_at, details, prev_hash):
    content = {
        "record_id": record_id,
        "kind": kind,
        "actor": actor,
        "created_at": created_at.isoformat(timespec="microseconds"),
        "details": details,
        "prev_hash": prev_hash,
    }
    data = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()


def upgrade():
    with op.batch_alter_table('record_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))

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
    connection = op.get_bind()
    prev_hash = GENESIS_HASH
    last_id = None
    count = 0
    rows = connection.execute(sa.select(events).order_by(events.c.id)).all()
    for row in rows:
        own = _event_hash(
            row.record_id, row.kind, row.actor, row.created_at, row.details, prev_hash
        )
        connection.execute(
            events.update().where(events.c.id == row.id).values(prev_hash=prev_hash, hash=own)
        )
        prev_hash, last_id, count = own, row.id, count + 1

    with op.batch_alter_table('record_events', schema=None) as batch_op:
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint('uq_record_events_prev_hash', ['prev_hash'])
        batch_op.create_unique_constraint('uq_record_events_hash', ['hash'])

    head = op.create_table('event_chain_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.Column('last_event_id', sa.Integer(), nullable=True),
    sa.Column('event_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.bulk_insert(head, [
        {'id': 1, 'last_hash': prev_hash, 'last_event_id': last_id, 'event_count': count},
    ])

    op.create_table('verification_codes',
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('record_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['record_id'], ['consent_records.id'], ),
    sa.PrimaryKeyConstraint('code'),
    sa.UniqueConstraint('record_id', name='uq_verification_codes_record_id')
    )


def downgrade():
    op.drop_table('verification_codes')
    op.drop_table('event_chain_head')
    with op.batch_alter_table('record_events', schema=None) as batch_op:
        batch_op.drop_constraint('uq_record_events_hash', type_='unique')
        batch_op.drop_constraint('uq_record_events_prev_hash', type_='unique')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
