"""staff portal: staff sessions and names, record search key, record listings, audit indexes

Revision ID: 5f1c2a9d8e43
Revises: 5e2c8a91b7d4
Create Date: 2026-11-25 09:00:00

"""
from alembic import op
import sqlalchemy as sa

from consentapp.records.search import search_key


# revision identifiers, used by Alembic.
revision = '5f1c2a9d8e43'
down_revision = '5e2c8a91b7d4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('full_name', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('deactivated_at', sa.DateTime(), nullable=True))

    op.create_table('staff_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('end_reason', sa.String(length=20), nullable=True),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['staff_users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_sha256')
    )
    op.create_index('ix_staff_sessions_user_id', 'staff_sessions', ['user_id'], unique=False)

    with op.batch_alter_table('consent_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('patient_name_search', sa.String(length=400), server_default='', nullable=False))
    records = sa.table('consent_records', sa.column('id', sa.String), sa.column('patient_name', sa.String),
                       sa.column('patient_name_search', sa.String), sa.column('outcome', sa.String))
    connection = op.get_bind()
    for record_id, name in connection.execute(sa.select(records.c.id, records.c.patient_name)).all():
        connection.execute(
            records.update().where(records.c.id == record_id).values(patient_name_search=search_key(name))
        )
    op.create_index('ix_consent_records_patient_name_search', 'consent_records', ['patient_name_search'], unique=False)

    op.create_table('record_listings',
    sa.Column('record_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('patient_name_search', sa.String(length=400), nullable=False),
    sa.Column('patient_dob', sa.Date(), nullable=False),
    sa.Column('procedure_slug', sa.String(length=64), nullable=False),
    sa.Column('completed_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['record_id'], ['consent_records.id'], ),
    sa.PrimaryKeyConstraint('record_id')
    )
    op.create_index('ix_record_listings_completed', 'record_listings', ['completed_at', 'record_id', 'patient_name_search'], unique=False)
    op.create_index('ix_record_listings_status', 'record_listings', ['status', 'completed_at', 'record_id', 'patient_name_search'], unique=False)
    op.create_index('ix_record_listings_patient_name_search', 'record_listings', ['patient_name_search'], unique=False)
    op.create_index('ix_record_listings_patient_dob', 'record_listings', ['patient_dob'], unique=False)
    op.create_index('ix_record_listings_procedure_completed', 'record_listings', ['procedure_slug', 'completed_at'], unique=False)
    # Before this revision no event could change a status: it follows from the outcome alone.
    op.execute(
        "INSERT INTO record_listings (record_id, status, patient_name_search, patient_dob, "
        "procedure_slug, completed_at, updated_at) "
        "SELECT id, CASE outcome WHEN 'eligible' THEN 'signed' ELSE outcome END, "
        "patient_name_search, patient_dob, procedure_slug, completed_at, completed_at "
        "FROM consent_records"
    )

    op.create_index('ix_record_events_created_at', 'record_events', ['created_at'], unique=False)
    op.create_index('ix_record_events_actor_created', 'record_events', ['actor', 'created_at'], unique=False)
    op.create_index('ix_record_events_kind_created', 'record_events', ['kind', 'created_at'], unique=False)


def downgrade():
    op.drop_index('ix_record_events_kind_created', table_name='record_events')
    op.drop_index('ix_record_events_actor_created', table_name='record_events')
    op.drop_index('ix_record_events_created_at', table_name='record_events')
    op.drop_index('ix_record_listings_procedure_completed', table_name='record_listings')
    op.drop_index('ix_record_listings_patient_dob', table_name='record_listings')
    op.drop_index('ix_record_listings_patient_name_search', table_name='record_listings')
    op.drop_index('ix_record_listings_status', table_name='record_listings')
    op.drop_index('ix_record_listings_completed', table_name='record_listings')
    op.drop_table('record_listings')
    op.drop_index('ix_consent_records_patient_name_search', table_name='consent_records')
    with op.batch_alter_table('consent_records', schema=None) as batch_op:
        batch_op.drop_column('patient_name_search')
    op.drop_index('ix_staff_sessions_user_id', table_name='staff_sessions')
    op.drop_table('staff_sessions')
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_column('deactivated_at')
        batch_op.drop_column('must_change_password')
        batch_op.drop_column('full_name')
