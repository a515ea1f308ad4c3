"""the moderation log's index: a tavolo's audit events by time (replaces the index on tavolo_id alone)

Revision ID: d5f1a2c3b4e6
Revises: c4e8a17b2d53
Create Date: 2026-12-09 09:00:00
"""
from alembic import op

revision = 'd5f1a2c3b4e6'
down_revision = 'c4e8a17b2d53'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_audit_event_tavolo_at", "audit_event", ["tavolo_id", "at", "id"])
    op.drop_index("ix_audit_event_tavolo_id", table_name="audit_event")


def downgrade():
    op.create_index("ix_audit_event_tavolo_id", "audit_event", ["tavolo_id"])
    op.drop_index("ix_audit_event_tavolo_at", table_name="audit_event")
