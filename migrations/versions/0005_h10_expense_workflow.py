"""Expenses: date incurred and reject reason (statuses PENDING and REJECTED join APPROVED and PAID)

Revision ID: 0005_h10
Revises: 0004_h2
Create Date: 2026-11-29 23:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0005_h10'
down_revision = '0004_h2'
branch_labels = None
depends_on = None


def upgrade():
    # status is a String(20) without a CHECK, so the new values need no change to it.
    with op.batch_alter_table('expenses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('incurred_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('reject_reason', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('expenses', schema=None) as batch_op:
        batch_op.drop_column('reject_reason')
        batch_op.drop_column('incurred_on')
