"""Triage indexes: keyset orders by status/date and amount, trigram text search (PostgreSQL), review/removed

Revision ID: 0003t
Revises: 0002
Create Date: 2026-11-22 00:22:39.256929

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003t'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    with op.batch_alter_table('import_rows', schema=None) as batch_op:
        batch_op.create_index('ix_import_rows_description_trgm', ['description'], unique=False, postgresql_using='gin', postgresql_ops={'description': 'gin_trgm_ops'}, postgresql_with={'gin_pending_list_limit': 32768})
        batch_op.create_index('ix_import_rows_host_date', ['host_id', 'date', 'id'], unique=False)
        batch_op.create_index('ix_import_rows_host_amount', ['host_id', 'amount', 'id'], unique=False)
        batch_op.create_index('ix_import_rows_import_status_date', ['import_id', 'status', 'date', 'id'], unique=False)
        batch_op.create_index('ix_import_rows_merchant_trgm', ['merchant_name'], unique=False, postgresql_using='gin', postgresql_ops={'merchant_name': 'gin_trgm_ops'}, postgresql_with={'gin_pending_list_limit': 32768})
        batch_op.create_index('ix_import_rows_note_trgm', ['note'], unique=False, postgresql_using='gin', postgresql_ops={'note': 'gin_trgm_ops'}, postgresql_with={'gin_pending_list_limit': 32768})
        batch_op.create_index('ix_import_rows_removed', ['import_id', 'host_id'], unique=False, postgresql_where=sa.text('removed_at IS NOT NULL'), sqlite_where=sa.text('removed_at IS NOT NULL'))
        batch_op.create_index('ix_import_rows_review', ['import_id', 'host_id'], unique=False, postgresql_where=sa.text('needs_review'), sqlite_where=sa.text('needs_review'))


def downgrade():
    with op.batch_alter_table('import_rows', schema=None) as batch_op:
        batch_op.drop_index('ix_import_rows_review', postgresql_where=sa.text('needs_review'), sqlite_where=sa.text('needs_review'))
        batch_op.drop_index('ix_import_rows_removed', postgresql_where=sa.text('removed_at IS NOT NULL'), sqlite_where=sa.text('removed_at IS NOT NULL'))
        batch_op.drop_index('ix_import_rows_note_trgm', postgresql_using='gin', postgresql_ops={'note': 'gin_trgm_ops'})
        batch_op.drop_index('ix_import_rows_merchant_trgm', postgresql_using='gin', postgresql_ops={'merchant_name': 'gin_trgm_ops'})
        batch_op.drop_index('ix_import_rows_import_status_date')
        batch_op.drop_index('ix_import_rows_host_date')
        batch_op.drop_index('ix_import_rows_host_amount')
        batch_op.drop_index('ix_import_rows_description_trgm', postgresql_using='gin', postgresql_ops={'description': 'gin_trgm_ops'})
