"""Counters kept on the row they describe, so that a page reads a figure instead of recounting it.

`bump(Model, row_id, column=delta, ...)` is one atomic `UPDATE … SET column = column + delta`, run in
the transaction of the change it counts: two transactions bumping the same row at once are
serialised by the row lock and both deltas survive — never a read-modify-write. A copy of the row
already loaded in the session forgets the bumped columns, so the next read sees the stored value.
A counter is not an edit of its row: `updated_at` stays as it is. Nothing is flushed first: a bump
may come in the middle of an operation (right after a state moved, before the columns that go with
it), and touches only its counter columns.

Each domain says what its counters count and bumps them where that changes; `flask recount`
(consulta.stats) recomputes them all from the rows they count.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from consulta.extensions import db


def bump(model: Any, row_id: int, **deltas: int) -> None:
    deltas = {name: delta for name, delta in deltas.items() if delta}
    if not deltas:
        return
    table = model.__table__
    values = {table.c[name]: table.c[name] + delta for name, delta in deltas.items()}
    if "updated_at" in table.c:
        values[table.c.updated_at] = table.c.updated_at
    with db.session.no_autoflush:
        db.session.execute(update(table).where(table.c.id == row_id).values(values))
    loaded = db.session.identity_map.get(db.session.identity_key(model, row_id))
    if loaded is not None:
        db.session.expire(loaded, list(deltas))
