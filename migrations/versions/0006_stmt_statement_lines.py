"""Statements: import rows keep the line of the statement they came from; upload runs count skipped lines and say who uploaded

Revision ID: 0006_stmt
Revises: 0005_h11
Create Date: 2026-12-07 06:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_stmt'
down_revision = '0005_h11'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('import_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('skipped', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('uploaded_by', sa.String(length=254), nullable=True))
    with op.batch_alter_table('import_rows', schema=None) as batch_op:
        batch_op.add_column(sa.Column('statement_line', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('import_rows', schema=None) as batch_op:
        batch_op.drop_column('statement_line')
    with op.batch_alter_table('import_runs', schema=None) as batch_op:
        batch_op.drop_column('uploaded_by')
        batch_op.drop_column('skipped')
