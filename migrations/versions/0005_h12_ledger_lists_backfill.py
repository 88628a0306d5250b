"""Ledger lists: keyset indexes by effective date, recorded date and text; back-fill of cleared_at

Revision ID: 0005_h12
Revises: 0004_h2
Create Date: 2026-11-29 23:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0005_h12'
down_revision = '0005_h10'
branch_labels = None
depends_on = None

EFFECTIVE = sa.text("coalesce(cleared_at, created_at)")

# Still refuses every UPDATE and DELETE of a ledger row, except the one change the back-fill makes
# (`flask ledger backfill-cleared-at`, which sets hostadmin.backfill for its own transaction only):
# cleared_at from NULL to a value, every other column unchanged, and never moving a row's effective
# date (cleared_at, else created_at) into or out of a month the host has closed.
LEDGER_IMMUTABLE_FUNCTION = """
CREATE OR REPLACE FUNCTION ledger_transactions_refuse_change() RETURNS trigger AS $$
DECLARE
    zone text;
    old_month text;
    new_month text;
BEGIN
    IF TG_OP = 'UPDATE' AND coalesce(current_setting('hostadmin.backfill', true), '') = 'on' THEN
        IF OLD.cleared_at IS NULL AND NEW.cleared_at IS NOT NULL
           AND to_jsonb(NEW) - 'cleared_at' = to_jsonb(OLD) - 'cleared_at' THEN
            SELECT timezone INTO zone FROM hosts WHERE id = NEW.host_id FOR SHARE;
            old_month := to_char(OLD.created_at AT TIME ZONE zone, 'YYYY-MM');
            new_month := to_char(NEW.cleared_at AT TIME ZONE zone, 'YYYY-MM');
            IF old_month <> new_month AND EXISTS (
                    SELECT 1 FROM closed_periods WHERE host_id = NEW.host_id
                    AND month IN (old_month, new_month) AND reopened_at IS NULL) THEN
                RAISE EXCEPTION 'back-fill would move a ledger row from % to %, and a closed month cannot change',
                    old_month, new_month USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'ledger_transactions rows are immutable (% refused); record a reversal instead', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql
"""

ORIGINAL_FUNCTION = """
CREATE OR REPLACE FUNCTION ledger_transactions_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger_transactions rows are immutable (% refused); record a reversal instead', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql
"""


def upgrade():
    with op.batch_alter_table('ledger_transactions', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_transactions_host_effective', ['host_id', EFFECTIVE, 'id'], unique=False)
        batch_op.create_index('ix_ledger_transactions_account_effective_id', ['account_id', EFFECTIVE, 'id'],
                              unique=False)
        batch_op.create_index('ix_ledger_transactions_host_created', ['host_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_ledger_transactions_description_trgm', ['description'], unique=False,
                              postgresql_using='gin', postgresql_ops={'description': 'gin_trgm_ops'})
        batch_op.create_index('ix_ledger_transactions_reason_trgm', ['reason'], unique=False,
                              postgresql_using='gin', postgresql_ops={'reason': 'gin_trgm_ops'})
    if op.get_bind().dialect.name == "postgresql":
        op.execute(LEDGER_IMMUTABLE_FUNCTION)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(ORIGINAL_FUNCTION)
    with op.batch_alter_table('ledger_transactions', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_transactions_reason_trgm', postgresql_using='gin',
                            postgresql_ops={'reason': 'gin_trgm_ops'})
        batch_op.drop_index('ix_ledger_transactions_description_trgm', postgresql_using='gin',
                            postgresql_ops={'description': 'gin_trgm_ops'})
        batch_op.drop_index('ix_ledger_transactions_host_created')
        batch_op.drop_index('ix_ledger_transactions_account_effective_id')
        batch_op.drop_index('ix_ledger_transactions_host_effective')
