"""system reasons stored as keys: audit_event.reason_key; proposal/comment.hidden_note

Revision ID: c3e5a7f9b1d2
Revises: b7c1e0a4d2f9
Create Date: 2026-12-07 06:00:00

The system's reasons are stored as keys of the event catalogue and said in the reader's language
(consulta.core.events): `audit_event.reason_key` beside the person's words in `reason`; a hidden
proposal or comment keeps the key in `hidden_reason` and the moderator's words in `hidden_note`.
Rows from before keep their words as they were. Decisions of minutes recorded without a reason
(their minutes' number in `changes`) get their key.
"""
from alembic import op
import sqlalchemy as sa


revision = 'c3e5a7f9b1d2'
down_revision = 'b7c1e0a4d2f9'
branch_labels = None
depends_on = None

_DECISION_ACTIONS = ("minutes.decision", "minutes.decision_confirmed", "objective.approve", "objective.drop")


def upgrade():
    # Plain ADD COLUMNs: no batch copy of the tables.
    op.add_column('audit_event', sa.Column('reason_key', sa.String(length=80), nullable=True))
    op.add_column('proposal', sa.Column('hidden_note', sa.String(length=500), nullable=True))
    op.add_column('comment', sa.Column('hidden_note', sa.String(length=500), nullable=True))

    events = sa.table('audit_event', sa.column('id', sa.Integer()), sa.column('action', sa.String()),
                      sa.column('changes', sa.JSON()), sa.column('reason', sa.String()),
                      sa.column('reason_key', sa.String()))
    bind = op.get_bind()
    rows = bind.execute(sa.select(events.c.id, events.c.changes)
                        .where(events.c.action.in_(_DECISION_ACTIONS), events.c.reason.is_(None))).all()
    for ident, changes in rows:
        minutes_id = (changes or {}).get("minutes_id")
        if isinstance(minutes_id, int):
            bind.execute(events.update().where(events.c.id == ident)
                         .values(reason_key=f"minutes.decision:{minutes_id}"))


def downgrade():
    op.drop_column('comment', 'hidden_note')
    op.drop_column('proposal', 'hidden_note')
    op.drop_column('audit_event', 'reason_key')
