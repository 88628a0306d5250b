"""Collectives can be archived and renamed (names unique per host in any case); collectives, expenses
and import rows carry a version so a save based on a stale page is refused

Revision ID: 0007_money
Revises: 0006_proc
Create Date: 2026-12-07 21:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_money'
down_revision = '0006_proc'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
    with op.batch_alter_table('expenses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
    with op.batch_alter_table('import_rows', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
    # Earlier versions accepted two collectives named alike ("Ada" and "ada"). Before the unique index,
    # every collective but the first of each name gets its slug appended ("ada (ada-2)"): nothing is lost,
    # the admin can rename them, and the index can be built.
    op.execute("""
        UPDATE accounts SET name = substr(name, 1, 95) || ' (' || slug || ')'
        WHERE kind = 'COLLECTIVE' AND id NOT IN (
            SELECT min(id) FROM accounts WHERE kind = 'COLLECTIVE' GROUP BY host_id, lower(name))
    """)
    op.create_index('uq_accounts_collective_name', 'accounts', ['host_id', sa.text('lower(name)')], unique=True,
                    postgresql_where=sa.text("kind = 'COLLECTIVE'"), sqlite_where=sa.text("kind = 'COLLECTIVE'"))


def downgrade():
    op.drop_index('uq_accounts_collective_name', table_name='accounts')
    with op.batch_alter_table('import_rows', schema=None) as batch_op:
        batch_op.drop_column('version')
    with op.batch_alter_table('expenses', schema=None) as batch_op:
        batch_op.drop_column('version')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('version')
        batch_op.drop_column('archived_at')
