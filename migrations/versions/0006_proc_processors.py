"""Processor connections per host (secrets encrypted), their verified events, what each payment became; expenses' Wise transfer id

Revision ID: 0006_proc
Revises: 0006_stmt
Create Date: 2026-12-07 06:13:08.511283

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_proc'
down_revision = '0006_stmt'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('processor_connections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('host_id', sa.Integer(), nullable=False),
    sa.Column('processor', sa.String(length=10), nullable=False),
    sa.Column('verification_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('api_key_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('sandbox', sa.Boolean(), nullable=False),
    sa.Column('cleared_field', sa.String(length=30), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['host_id'], ['hosts.id'], name=op.f('fk_processor_connections_host_id_hosts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_processor_connections')),
    sa.UniqueConstraint('host_id', 'processor', name=op.f('uq_processor_connections_host_id_processor'))
    )
    with op.batch_alter_table('processor_connections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_processor_connections_host_id'), ['host_id'], unique=False)

    op.create_table('processor_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('host_id', sa.Integer(), nullable=False),
    sa.Column('processor', sa.String(length=10), nullable=False),
    sa.Column('event_id', sa.String(length=255), nullable=False),
    sa.Column('event_type', sa.String(length=100), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('body_sha256', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('parent_ref', sa.String(length=255), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('job_id', sa.String(length=100), nullable=True),
    sa.Column('redeliveries', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['host_id'], ['hosts.id'], name=op.f('fk_processor_events_host_id_hosts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_processor_events')),
    sa.UniqueConstraint('host_id', 'processor', 'event_id', name=op.f('uq_processor_events_host_id_processor_event_id'))
    )
    with op.batch_alter_table('processor_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_processor_events_host_id'), ['host_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_processor_events_parent_ref'), ['parent_ref'], unique=False)
        batch_op.create_index(batch_op.f('ix_processor_events_status'), ['status'], unique=False)

    op.create_table('processor_payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('host_id', sa.Integer(), nullable=False),
    sa.Column('processor', sa.String(length=10), nullable=False),
    sa.Column('ref', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('expense_id', sa.Integer(), nullable=True),
    sa.Column('import_row_id', sa.Integer(), nullable=True),
    sa.Column('group_id', sa.String(length=36), nullable=True),
    sa.Column('fee', sa.BigInteger(), nullable=True),
    sa.Column('fee_group_id', sa.String(length=36), nullable=True),
    sa.Column('refunded', sa.BigInteger(), nullable=False),
    sa.Column('raw_timestamps', sa.JSON(), nullable=False),
    sa.Column('cleared_field', sa.String(length=30), nullable=True),
    sa.Column('cleared_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['expense_id'], ['expenses.id'], name=op.f('fk_processor_payments_expense_id_expenses')),
    sa.ForeignKeyConstraint(['host_id'], ['hosts.id'], name=op.f('fk_processor_payments_host_id_hosts')),
    sa.ForeignKeyConstraint(['import_row_id'], ['import_rows.id'], name=op.f('fk_processor_payments_import_row_id_import_rows')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_processor_payments_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_processor_payments')),
    sa.UniqueConstraint('host_id', 'processor', 'ref', name=op.f('uq_processor_payments_host_id_processor_ref'))
    )
    with op.batch_alter_table('processor_payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_processor_payments_expense_id'), ['expense_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_processor_payments_host_id'), ['host_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_processor_payments_order_id'), ['order_id'], unique=False)



    with op.batch_alter_table('expenses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wise_transfer_id', sa.String(length=30), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_expenses_host_id_wise_transfer_id'),
                                          ['host_id', 'wise_transfer_id'])


def downgrade():
    with op.batch_alter_table('expenses', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_expenses_host_id_wise_transfer_id'), type_='unique')
        batch_op.drop_column('wise_transfer_id')
    with op.batch_alter_table('processor_payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_processor_payments_order_id'))
        batch_op.drop_index(batch_op.f('ix_processor_payments_host_id'))
        batch_op.drop_index(batch_op.f('ix_processor_payments_expense_id'))

    op.drop_table('processor_payments')
    with op.batch_alter_table('processor_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_processor_events_status'))
        batch_op.drop_index(batch_op.f('ix_processor_events_parent_ref'))
        batch_op.drop_index(batch_op.f('ix_processor_events_host_id'))

    op.drop_table('processor_events')
    with op.batch_alter_table('processor_connections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_processor_connections_host_id'))

    op.drop_table('processor_connections')
