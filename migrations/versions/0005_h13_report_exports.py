"""report_exports: requested reports and exports, and closed months' stored reports

Revision ID: 0005_h13
Revises: 0004_h2
Create Date: 2026-11-29 23:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0005_h13'
down_revision = '0005_h9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_exports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('host_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('format', sa.String(length=8), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('row_count', sa.BigInteger(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('file_name', sa.String(length=200), nullable=True),
    sa.Column('file_size', sa.BigInteger(), nullable=True),
    sa.Column('job_id', sa.String(length=64), nullable=True),
    sa.Column('closed_period_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['closed_period_id'], ['closed_periods.id'],
                            name=op.f('fk_report_exports_closed_period_id_closed_periods')),
    sa.ForeignKeyConstraint(['host_id'], ['hosts.id'], name=op.f('fk_report_exports_host_id_hosts')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_report_exports_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_exports')),
    sa.UniqueConstraint('closed_period_id', name=op.f('uq_report_exports_closed_period_id'))
    )
    with op.batch_alter_table('report_exports', schema=None) as batch_op:
        batch_op.create_index('ix_report_exports_host_created', ['host_id', 'id'], unique=False)
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_host_at', ['host_id', 'at', 'id'], unique=False)
    # A host's month of ledger rows for the reports (the other index leads with the account).
    op.create_index('ix_ledger_transactions_host_cleared', 'ledger_transactions', ['host_id', 'cleared_at'],
                    unique=False)


def downgrade():
    op.drop_index('ix_ledger_transactions_host_cleared', table_name='ledger_transactions')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_host_at')
    with op.batch_alter_table('report_exports', schema=None) as batch_op:
        batch_op.drop_index('ix_report_exports_host_created')
    op.drop_table('report_exports')
