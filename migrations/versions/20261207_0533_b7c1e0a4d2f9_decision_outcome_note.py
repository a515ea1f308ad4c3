"""minutes decisions: outcome_note, why an outcome stands although the counts contradict it

Revision ID: b7c1e0a4d2f9
Revises: b7c41e9a2d30
Create Date: 2026-12-07 05:30:00

The column joins the columns the immutability triggers guard, so the decision trigger is
recreated with it (frozen copies of consulta.meetings.models.trigger_statements()).
"""
from alembic import op
import sqlalchemy as sa


revision = 'b7c1e0a4d2f9'
down_revision = 'b7c41e9a2d30'
branch_labels = None
depends_on = None

_COLUMNS = ("id, minutes_id, proposal_id, objective_id, subject_title, outcome, method, votes_for, votes_against, "
            "votes_abstained, motivation, motivation_html")
_SQLITE = ("CREATE TRIGGER minutes_decision_immutable_update BEFORE UPDATE OF {columns} ON minutes_decision "
           "WHEN (SELECT status FROM minutes WHERE id = OLD.minutes_id) = 'approved' OR "
           "(SELECT status FROM minutes WHERE id = NEW.minutes_id) = 'approved' "
           "BEGIN SELECT RAISE(ABORT, 'approved minutes are immutable'); END")
_POSTGRESQL = ("CREATE TRIGGER minutes_decision_immutable BEFORE INSERT OR UPDATE OF {columns} OR DELETE "
               "ON minutes_decision FOR EACH ROW EXECUTE FUNCTION minutes_part_refuse_change('minutes_id')")


def _replace_trigger(columns: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS minutes_decision_immutable_update")
        op.execute(_SQLITE.format(columns=columns))
    else:
        op.execute("DROP TRIGGER IF EXISTS minutes_decision_immutable ON minutes_decision")
        op.execute(_POSTGRESQL.format(columns=columns))


def upgrade():
    # A plain ADD COLUMN (no batch copy of the table, which would drop its triggers on SQLite).
    op.add_column('minutes_decision', sa.Column('outcome_note', sa.Text(), nullable=True))
    _replace_trigger(_COLUMNS + ", outcome_note")


def downgrade():
    _replace_trigger(_COLUMNS)
    op.drop_column('minutes_decision', 'outcome_note')
