"""Sync lock holder: the host and pid of the process holding an item's SQLite sync lease

Revision ID: 0004_h2
Revises: 0003t
Create Date: 2026-11-29 22:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_h2'
down_revision = '0004_h8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('plaid_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sync_lock_host', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('sync_lock_pid', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('plaid_items', schema=None) as batch_op:
        batch_op.drop_column('sync_lock_pid')
        batch_op.drop_column('sync_lock_host')
