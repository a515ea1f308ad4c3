"""The figures kept on the tavolo row (`Tavolo.*_count`), moved where what they count changes.

The proposals and comments domains say when one of theirs starts or stops counting and call
`count()`; `take_part()` keeps the number of distinct participants, one `TavoloParticipant` row
per person with their counted contributions. Both are atomic updates in the caller's transaction
(consulta.core.counters); the tavolo row is bumped last, after the rows of the change itself.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite

from consulta.core.counters import bump
from consulta.extensions import db
from consulta.tavoli.models import Tavolo, TavoloParticipant


def count(tavolo_id: int, **deltas: int) -> None:
    """Move the tavolo's counters: count(tavolo.id, comments_count=+1)."""
    bump(Tavolo, tavolo_id, **deltas)


def take_part(tavolo_id: int, user_id: int | None, delta: int) -> None:
    """A person's counted contributions at a tavolo go up or down by `delta`; the tavolo's
    participants move when someone's contributions leave or reach zero."""
    if user_id is None or not delta:
        return
    table = TavoloParticipant.__table__
    if delta > 0:
        insert = (postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert)(table)
        statement = insert.values(tavolo_id=tavolo_id, user_id=user_id, contributions=delta).on_conflict_do_update(
            index_elements=[table.c.tavolo_id, table.c.user_id],
            set_={"contributions": table.c.contributions + delta})
    else:
        statement = (update(table).where(table.c.tavolo_id == tavolo_id, table.c.user_id == user_id)
                     .values(contributions=table.c.contributions + delta))
    with db.session.no_autoflush:  # as bump(): only this row, whatever the operation has half-made
        now = db.session.execute(statement.returning(table.c.contributions)).scalar_one_or_none()
    if now is None:
        return
    before = now - delta
    if before <= 0 < now:
        count(tavolo_id, participants_count=1)
    elif now <= 0 < before:
        count(tavolo_id, participants_count=-1)
