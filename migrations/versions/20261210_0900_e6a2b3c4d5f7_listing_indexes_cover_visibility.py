"""the tavolo list's indexes carry state and visibility: a deep page is cut on the index alone

Revision ID: e6a2b3c4d5f7
Revises: d5f1a2c3b4e6
Create Date: 2026-12-10 09:00:00
"""
from alembic import op

revision = 'e6a2b3c4d5f7'
down_revision = 'd5f1a2c3b4e6'
branch_labels = None
depends_on = None

ORDERS = {
    "ix_proposal_tavolo_listed": ["tavolo_id", "listed_at", "id"],
    "ix_proposal_tavolo_votes": ["tavolo_id", "votes_for_count", "listed_at", "id"],
    "ix_proposal_tavolo_comments": ["tavolo_id", "comments_count", "listed_at", "id"],
}


def _recreate(columns_of):
    for name, columns in ORDERS.items():
        op.drop_index(name, table_name="proposal")
        op.create_index(name, "proposal", columns_of(columns))


def upgrade():
    _recreate(lambda columns: [*columns, "state", "visibility"])


def downgrade():
    _recreate(lambda columns: columns)
