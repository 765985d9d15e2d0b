"""treatment courses: what a consent covers, on the dashboard's listing

Revision ID: f2b8d61c4a37
Revises: d4a1c7e9b302
Create Date: 2026-12-02 16:30:00.000000

Issue 18. Four nullable columns of record_listings (records/course.py keeps them): the
sessions a consent allows and has used, the last day it covers, and the major version of the
definition it was signed with. Records kept before courses existed were signed with
definitions that had none, so only their major version is filled in.
"""
import re

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f2b8d61c4a37'
down_revision = 'd4a1c7e9b302'
branch_labels = None
depends_on = None

_MAJOR = re.compile(r"^(\d+)\.\d+\.\d+$")


def upgrade():
    with op.batch_alter_table('record_listings') as batch:
        batch.add_column(sa.Column('course_max_sessions', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('course_sessions_used', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('course_ends_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('definition_major', sa.Integer(), nullable=True))
    bind = op.get_bind()
    versions = bind.execute(sa.text(
        "SELECT DISTINCT definition_version FROM consent_records"
    )).scalars().all()
    for version in versions:
        found = _MAJOR.match(version or "")
        if found is None:
            continue
        bind.execute(sa.text(
            "UPDATE record_listings SET definition_major = :major WHERE record_id IN "
            "(SELECT id FROM consent_records WHERE definition_version = :version)"
        ), {"major": int(found.group(1)), "version": version})


def downgrade():
    with op.batch_alter_table('record_listings') as batch:
        batch.drop_column('definition_major')
        batch.drop_column('course_ends_on')
        batch.drop_column('course_sessions_used')
        batch.drop_column('course_max_sessions')
