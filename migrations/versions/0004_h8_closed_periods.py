"""Closed months (closed_periods) and their insert trigger, host time zone, ledger correction kind

Revision ID: 0004_h8
Revises: 0003t
Create Date: 2026-11-29 21:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0004_h8'
down_revision = '0004_h6'
branch_labels = None
depends_on = None


# Refuses a ledger row without cleared_at, or cleared inside a month closed for its host (months in the
# host's time zone). It first takes a share lock on the host row: closing a month takes the same row
# FOR NO KEY UPDATE, so a closing waits for ledger writes in flight and later writes wait for the
# closing, then see it (each statement of a plpgsql function reads a fresh snapshot).
LEDGER_CLEARED_FUNCTION = """
CREATE OR REPLACE FUNCTION ledger_transactions_check_cleared() RETURNS trigger AS $$
DECLARE
    zone text;
    closed_month text;
BEGIN
    IF NEW.cleared_at IS NULL THEN
        RAISE EXCEPTION 'ledger_transactions.cleared_at cannot be NULL'
            USING ERRCODE = 'not_null_violation';
    END IF;
    SELECT timezone INTO zone FROM hosts WHERE id = NEW.host_id FOR SHARE;
    closed_month := to_char(NEW.cleared_at AT TIME ZONE zone, 'YYYY-MM');
    IF EXISTS (SELECT 1 FROM closed_periods
               WHERE host_id = NEW.host_id AND month = closed_month AND reopened_at IS NULL) THEN
        RAISE EXCEPTION 'ledger row cleared at % falls in the closed month %', NEW.cleared_at, closed_month
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
"""

LEDGER_CLEARED_TRIGGER = """
CREATE TRIGGER ledger_transactions_cleared
BEFORE INSERT ON ledger_transactions
FOR EACH ROW EXECUTE FUNCTION ledger_transactions_check_cleared()
"""


def upgrade():
    op.create_table('closed_periods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('host_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reopened_by_id', sa.Integer(), nullable=True),
    sa.Column('reopened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reopen_reason', sa.Text(), nullable=True),
    sa.CheckConstraint("month LIKE '____-__'", name=op.f('ck_closed_periods_month_format')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_closed_periods_closed_by_id_users')),
    sa.ForeignKeyConstraint(['host_id'], ['hosts.id'], name=op.f('fk_closed_periods_host_id_hosts')),
    sa.ForeignKeyConstraint(['reopened_by_id'], ['users.id'], name=op.f('fk_closed_periods_reopened_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_closed_periods'))
    )
    with op.batch_alter_table('closed_periods', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_closed_periods_host_id'), ['host_id'], unique=False)
        batch_op.create_index('uq_closed_periods_in_force', ['host_id', 'month'], unique=True,
                              postgresql_where=sa.text('reopened_at IS NULL'),
                              sqlite_where=sa.text('reopened_at IS NULL'))

    with op.batch_alter_table('hosts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), server_default='UTC', nullable=False))

    with op.batch_alter_table('ledger_transactions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('correction', sa.String(length=10), nullable=True))

    if op.get_bind().dialect.name == "postgresql":
        op.execute(LEDGER_CLEARED_FUNCTION)
        op.execute(LEDGER_CLEARED_TRIGGER)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ledger_transactions_cleared ON ledger_transactions")
        op.execute("DROP FUNCTION IF EXISTS ledger_transactions_check_cleared()")
    with op.batch_alter_table('ledger_transactions', schema=None) as batch_op:
        batch_op.drop_column('correction')
    with op.batch_alter_table('hosts', schema=None) as batch_op:
        batch_op.drop_column('timezone')
    with op.batch_alter_table('closed_periods', schema=None) as batch_op:
        batch_op.drop_index('uq_closed_periods_in_force', postgresql_where=sa.text('reopened_at IS NULL'),
                            sqlite_where=sa.text('reopened_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_closed_periods_host_id'))
    op.drop_table('closed_periods')
