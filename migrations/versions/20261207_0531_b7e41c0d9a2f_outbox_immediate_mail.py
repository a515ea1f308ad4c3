"""Outbox for every e-mail: immediate messages beside the digests

Revision ID: b7e41c0d9a2f
Revises: a1b2c3d4e5f6
Create Date: 2026-12-07 05:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = "b7e41c0d9a2f"
down_revision = 'a1b2c3d4e5f6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox_email", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_outbox_email_kind_valid"), type_="check")
        batch_op.alter_column("kind", existing_type=sa.String(length=6), type_=sa.String(length=9),
                              existing_nullable=False, existing_server_default="digest")
        batch_op.alter_column("recipient_id", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("period_key", existing_type=sa.String(length=32), nullable=True)
        batch_op.add_column(sa.Column("template", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("attachments", sa.JSON(), nullable=True))
        batch_op.create_check_constraint(batch_op.f("ck_outbox_email_kind_valid"), "kind IN ('digest', 'immediate')")
        batch_op.create_check_constraint(
            batch_op.f("ck_outbox_email_digest_has_recipient_period"),
            "kind != 'digest' OR (recipient_id IS NOT NULL AND period_key IS NOT NULL)")


def downgrade():
    op.execute("DELETE FROM outbox_email WHERE kind != 'digest'")
    with op.batch_alter_table("outbox_email", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_outbox_email_digest_has_recipient_period"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_outbox_email_kind_valid"), type_="check")
        batch_op.drop_column("attachments")
        batch_op.drop_column("template")
        batch_op.alter_column("period_key", existing_type=sa.String(length=32), nullable=False)
        batch_op.alter_column("recipient_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("kind", existing_type=sa.String(length=9), type_=sa.String(length=6),
                              existing_nullable=False, existing_server_default="digest")
        batch_op.create_check_constraint(batch_op.f("ck_outbox_email_kind_valid"), "kind IN ('digest')")
