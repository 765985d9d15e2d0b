"""record listings: covering indexes for every dashboard filter and sort

Revision ID: b7e3f9a2c614
Revises: 8c4d2e7f1a90
Create Date: 2026-12-01 16:10:00.000000

A search filtered by procedure read the table for each row's status (the procedure index
did not carry it), and a status tab sorted by name sorted the whole tab: with every filter
column in each index, both read one index (tests/bench/search_bench.py, its slowest
search: 37 -> 18 ms).
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b7e3f9a2c614'
down_revision = '8c4d2e7f1a90'
branch_labels = None
depends_on = None

TABLE = 'record_listings'
NEW = {
    'ix_record_listings_completed': ['completed_at', 'record_id', 'status', 'procedure_slug',
                                     'patient_dob', 'patient_name_search'],
    'ix_record_listings_status': ['status', 'completed_at', 'record_id', 'procedure_slug',
                                  'patient_dob', 'patient_name_search'],
    'ix_record_listings_status_name': ['status', 'patient_name_search', 'completed_at',
                                       'record_id', 'procedure_slug', 'patient_dob'],
    'ix_record_listings_patient_name_search': ['patient_name_search', 'completed_at',
                                               'record_id', 'status', 'procedure_slug',
                                               'patient_dob'],
}
OLD = {
    'ix_record_listings_completed': ['completed_at', 'record_id', 'patient_name_search'],
    'ix_record_listings_status': ['status', 'completed_at', 'record_id', 'patient_name_search'],
    'ix_record_listings_patient_name_search': ['patient_name_search'],
    'ix_record_listings_procedure_completed': ['procedure_slug', 'completed_at'],
}


def _replace(drop: dict, create: dict) -> None:
    for name in drop:
        op.drop_index(name, table_name=TABLE)
    for name, columns in create.items():
        op.create_index(name, TABLE, columns, unique=False)


def upgrade():
    _replace(OLD, NEW)


def downgrade():
    _replace(NEW, OLD)
