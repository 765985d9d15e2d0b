"""consent records: the clinic date the screening ran on, and the phone numbers shown (issue 17)

Revision ID: c3a8e61f0d27
Revises: b7e3f9a2c614
Create Date: 2026-12-03 10:00:00.000000

Format 2 of the definition language has rules on the patient's age and tells the patient
which numbers to call. A record keeps both facts a re-render needs to come out the same: the
clinic's date the rules were run on (`screened_on`; the age is taken on it) and the phone
numbers as shown (`clinic_contact`). Both are null on records kept before.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3a8e61f0d27'
down_revision = 'b7e3f9a2c614'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('consent_records') as batch:
        batch.add_column(sa.Column('screened_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('clinic_contact', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('consent_records') as batch:
        batch.drop_column('clinic_contact')
        batch.drop_column('screened_on')
