"""electronic records agreement, photo consents, patient copy links, record list exports

Revision ID: 8c4d2e7f1a90
Revises: 31db02b274c5
Create Date: 2026-11-26 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8c4d2e7f1a90'
down_revision = '31db02b274c5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('consent_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('esign_agreement', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('photo_consent', sa.JSON(), nullable=True))

    op.create_table(
        'patient_copy_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_sha256', sa.String(length=64), nullable=False),
        sa.Column('record_id', sa.String(length=36), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['record_id'], ['consent_records.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_sha256'),
    )
    op.create_index('ix_patient_copy_links_record_id', 'patient_copy_links', ['record_id'],
                    unique=False)

    op.create_table(
        'record_list_exports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('actor', sa.String(length=254), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('search', sa.JSON(), nullable=False),
        sa.Column('record_count', sa.Integer(), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_record_list_exports_created_at', 'record_list_exports', ['created_at'],
                    unique=False)


def downgrade():
    op.drop_index('ix_record_list_exports_created_at', table_name='record_list_exports')
    op.drop_table('record_list_exports')
    op.drop_index('ix_patient_copy_links_record_id', table_name='patient_copy_links')
    op.drop_table('patient_copy_links')
    with op.batch_alter_table('consent_records', schema=None) as batch_op:
        batch_op.drop_column('photo_consent')
        batch_op.drop_column('esign_agreement')
