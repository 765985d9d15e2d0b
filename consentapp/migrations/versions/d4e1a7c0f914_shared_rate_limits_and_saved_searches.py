"""shared rate limits (rate_limit_windows) and the dashboard's saved searches (issue 14)

Revision ID: d4e1a7c0f914
Revises: c3a5e1f09b27
Create Date: 2026-12-02 09:00:00.000000

rate_limit_windows: the moving windows of Flask-Limiter's `database://` store, shared by
every gunicorn worker (consentapp/rate_limits.py). saved_searches: the dashboard's filters,
kept on the server so the results page's address carries an opaque id, not a name.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4e1a7c0f914'
down_revision = 'c3a5e1f09b27'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'rate_limit_windows',
        sa.Column('key', sa.String(length=600), nullable=False),
        sa.Column('entries', sa.Text(), nullable=False),
        sa.Column('counter', sa.Integer(), nullable=False),
        sa.Column('expires_at', sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )
    op.create_index('ix_rate_limit_windows_expires_at', 'rate_limit_windows', ['expires_at'],
                    unique=False)
    op.create_table(
        'saved_searches',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('staff_session_id', sa.Integer(), nullable=False),
        sa.Column('filters', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['staff_session_id'], ['staff_sessions.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_saved_searches_staff_session_id', 'saved_searches',
                    ['staff_session_id'], unique=False)
    op.create_index('ix_saved_searches_created_at', 'saved_searches', ['created_at'],
                    unique=False)


def downgrade():
    op.drop_index('ix_saved_searches_created_at', table_name='saved_searches')
    op.drop_index('ix_saved_searches_staff_session_id', table_name='saved_searches')
    op.drop_table('saved_searches')
    op.drop_index('ix_rate_limit_windows_expires_at', table_name='rate_limit_windows')
    op.drop_table('rate_limit_windows')
