"""worker heartbeats: one row per PDF worker loop, for /healthz and doctor

Revision ID: d4a1c7e9b302
Revises: e9b3c5a27d14
Create Date: 2026-12-02 07:00:00.000000

Issue 19. A table of its own (nothing else changes), so the lead can re-chain it after other
branches' migrations freely.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd4a1c7e9b302'
down_revision = 'e9b3c5a27d14'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'worker_heartbeats',
        sa.Column('worker_id', sa.String(length=200), nullable=False),
        sa.Column('mode', sa.String(length=16), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('beat_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('worker_id'),
    )
    op.create_index('ix_worker_heartbeats_beat_at', 'worker_heartbeats', ['beat_at'],
                    unique=False)


def downgrade():
    op.drop_index('ix_worker_heartbeats_beat_at', table_name='worker_heartbeats')
    op.drop_table('worker_heartbeats')
