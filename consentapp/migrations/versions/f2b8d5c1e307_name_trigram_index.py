"""record listings: a trigram index for partial-name search on PostgreSQL

Revision ID: f2b8d5c1e307
Revises: f2b8d61c4a37
Create Date: 2026-12-02 16:30:00.000000

Issue 20. The dashboard finds names by any part ("nun" finds "Núñez"): a LIKE '%nun%' no
B-tree can answer, so on a million records PostgreSQL read every row of the listings. A GIN
index of pg_trgm's trigrams answers it from the index (tests/bench/search_bench.py).

pg_trgm ships with PostgreSQL and is a trusted extension (PostgreSQL 13+): the owner of the
database may create it without being a superuser. Where it still cannot be created (not
installed, or a role without CREATE on the database), the migration says so and carries on
without the index (its warning says so): searches give the same answers, only slower on
very many records (README, "PostgreSQL and several servers"). An administrator can add both later
with the two statements of the warning below. Nothing on SQLite, which searches a
clinic's records fast enough without it.

The index is not in the models (consentapp/database.py OPTIONAL_INDEXES): it exists only
where the extension does.
"""
import logging

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f2b8d5c1e307'
down_revision = 'f2b8d61c4a37'
branch_labels = None
depends_on = None

INDEX = 'ix_record_listings_name_trigrams'
log = logging.getLogger('alembic.runtime.migration')


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        return
    savepoint = bind.begin_nested()  # a refused CREATE EXTENSION must not end the migration
    try:
        bind.execute(sa.text('CREATE EXTENSION IF NOT EXISTS pg_trgm'))
    except sa.exc.DBAPIError as error:
        savepoint.rollback()
        log.warning(
            'pg_trgm could not be created (%s): partial-name search works without its '
            'index, only slower on very many records. Ask the database administrator to run '
            '"CREATE EXTENSION pg_trgm; CREATE INDEX %s ON record_listings USING gin '
            '(patient_name_search gin_trgm_ops);" in this database.',
            type(error.orig).__name__, INDEX,
        )
        return
    savepoint.commit()
    op.execute(
        f'CREATE INDEX IF NOT EXISTS {INDEX} ON record_listings '
        'USING gin (patient_name_search gin_trgm_ops)'
    )


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        # The extension stays: other things in the database may use it.
        op.execute(f'DROP INDEX IF EXISTS {INDEX}')
