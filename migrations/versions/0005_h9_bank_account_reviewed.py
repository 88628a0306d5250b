"""Bank accounts: when an admin decided whether hostadmin imports the account (null = new, undecided);
plaid items: when a disconnected connection was removed from the Connections list; the day from which a
reconnected bank's history is new

Revision ID: 0005_h9
Revises: 0004_h2
Create Date: 2026-11-29 23:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_h9'
down_revision = '0005_h12'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('bank_accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('history_from', sa.Date(), nullable=True))
    with op.batch_alter_table('plaid_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('removed_from_list_at', sa.DateTime(timezone=True), nullable=True))
    # Accounts stored before this revision were chosen in Link when the bank was connected.
    op.execute("UPDATE bank_accounts SET reviewed_at = created_at")


def downgrade():
    with op.batch_alter_table('plaid_items', schema=None) as batch_op:
        batch_op.drop_column('removed_from_list_at')
    with op.batch_alter_table('bank_accounts', schema=None) as batch_op:
        batch_op.drop_column('history_from')
        batch_op.drop_column('reviewed_at')
