"""render jobs: a renewable lease and the claim that holds it

Revision ID: c3a5e1f09b27
Revises: c3a8e61f0d27
Create Date: 2026-12-02 09:00:00.000000

A job was claimed for five minutes whatever became of its worker. Now the claim names its
holder (claimed_by, a random token the holder alone knows) and lasts until
lease_expires_at, which the holder pushes forward while it renders: a job whose worker
died is free again within PDF_RENDER_LEASE_SECONDS, and only the holder may store its PDF.
A job left running by the old code has no lease, which counts as lapsed.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c3a5e1f09b27'
down_revision = 'c3a8e61f0d27'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('render_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('lease_expires_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('render_jobs', schema=None) as batch_op:
        batch_op.drop_column('lease_expires_at')
        batch_op.drop_column('claimed_by')
