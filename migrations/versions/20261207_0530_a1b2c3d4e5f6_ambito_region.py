"""ambito: the region its comuni are in

Revision ID: a1b2c3d4e5f6
Revises: 5d34864fa69c
Create Date: 2026-12-07 05:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a1b2c3d4e5f6'
down_revision = '5d34864fa69c'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ambito') as batch_op:
        batch_op.add_column(sa.Column('region', sa.String(length=60), nullable=True))


def downgrade():
    with op.batch_alter_table('ambito') as batch_op:
        batch_op.drop_column('region')
