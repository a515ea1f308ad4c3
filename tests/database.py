"""Test isolation on the database.

A test's data lives in one transaction that is rolled back at its end: every session of the app is
bound to one connection and works in a SAVEPOINT. A test marked `committing` (other connections must
see its data) commits for real and the tables are emptied after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa

from consulta.extensions import db

# Sessions bound to the test's connection work in SAVEPOINTs (see `rolled_back_transaction`).
db.session.session_factory.configure(join_transaction_mode="create_savepoint")


@contextmanager
def immutability_guard_lifted():
    """Drop the approved-minutes triggers for the block, then create them again (tampering tests)."""
    with sql_connection() as conn:
        _drop_immutability_triggers(conn)
    try:
        yield
    finally:
        with sql_connection() as conn:
            _create_immutability_triggers(conn)


def _drop_immutability_triggers(conn) -> None:
    from consulta.meetings.models import trigger_names

    dialect = conn.dialect.name
    for trigger, table in trigger_names(dialect):
        conn.execute(sa.text(f"DROP TRIGGER IF EXISTS {trigger}" + (f" ON {table}" if dialect != "sqlite" else "")))


def _create_immutability_triggers(conn) -> None:
    from consulta.meetings.models import trigger_statements

    dialect = conn.dialect.name
    for statement in trigger_statements(dialect):
        if dialect != "sqlite" and statement.startswith("CREATE OR REPLACE FUNCTION"):
            continue
        conn.execute(sa.text(statement))


Rows = list[tuple[sa.Table, list[dict]]]
# Their hash covers the meeting's times and the approval's: sealed minutes keep their clock.
_SEALED_CLOCK = {"meeting", "minutes"}


def table_rows() -> Rows:
    """Every row of every table, parents first, each table in primary-key order (rows refer to earlier ones)."""
    return [(table, [dict(row._mapping) for row in db.session.execute(
        table.select().order_by(*table.primary_key.columns))]) for table in db.metadata.sorted_tables]


def tables_are_empty() -> bool:
    return all(db.session.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first() is None
               for table in db.metadata.sorted_tables)


def shifted(rows: Rows, delta) -> Rows:
    """The rows with every date-time moved by `delta` (but sealed minutes' and their meetings'), so that
    they stand to the present as they stood when they were read: an edit window still open, say."""
    moved = []
    for table, table_rows_ in rows:
        columns = [] if table.name in _SEALED_CLOCK else [
            c.name for c in table.columns if isinstance(c.type, sa.DateTime)]
        if columns:
            table_rows_ = [{**row, **{c: row[c] + delta for c in columns if row[c] is not None}}
                           for row in table_rows_]
        moved.append((table, table_rows_))
    return moved


def insert_rows(rows: Rows) -> None:
    """Insert rows read back from another test's database (in table dependency order), as they were:
    approved minutes included, hence with the immutability triggers lifted meanwhile; PostgreSQL's id
    sequences move past the inserted ids."""
    from consulta.meetings.models import trigger_names

    conn = db.session.connection()
    # Only when there are minutes to insert: on SQLite a schema change in the transaction makes every later
    # ROLLBACK TO SAVEPOINT reload the schema (each refused request of the test would pay for it).
    guarded = {table for _trigger, table in trigger_names(conn.dialect.name)}
    lift = any(table.name in guarded and table_rows for table, table_rows in rows)
    if lift:
        _drop_immutability_triggers(conn)
    for table, table_rows in rows:
        if table_rows:
            conn.execute(table.insert(), table_rows)
    if lift:
        _create_immutability_triggers(conn)
    if conn.dialect.name == "postgresql":
        for table, table_rows in rows:
            if table_rows and "id" in table.c:
                quoted = f'"{table.name}"'  # "user" is a reserved word
                conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{quoted}', 'id'), "
                                     f"(SELECT max(id) FROM {quoted}))"))


# While a rolled-back test runs, the app's sessions and `sql_connection()` all work on this connection.
def current_test_connection() -> sa.Connection | None:
    """The connection of the running rolled-back test; None in a committing test."""
    return _running.connection if _running is not None else None


@contextmanager
def sql_connection() -> Iterator[sa.Connection]:
    """A connection for raw SQL that sees (and is seen by) the app's data: a savepoint on the test's
    connection, or a transaction of its own in a committing test. An error rolls the block back."""
    connection = current_test_connection()
    if connection is not None:
        with connection.begin_nested():
            yield connection
    else:
        with db.engine.begin() as conn:
            yield conn


@dataclass
class _Transaction:
    """A test's connection and outer transaction, and the scene whose rows that transaction holds.

    A test that used a scene leaves, at its end, only its own writes rolled back (to the savepoint taken
    after the scene's rows): the next test on this worker and engine that also asks for scenes starts on
    the same transaction, and if it asks for the same scene it finds the rows already there — no bulk
    insert. A scene is the test's first write, so a test that asks for another one loses nothing when
    the rows are rolled back first (`discard_scene`)."""

    engine: sa.Engine
    connection: sa.Connection
    outer: sa.RootTransaction
    scene: str | None = None            # the scene whose rows are in `outer`
    after_scene: sa.NestedTransaction | None = None
    claimed: bool = False               # the running test asked for `scene`


_held: _Transaction | None = None       # between tests: a transaction holding a scene
_running: _Transaction | None = None    # during a rolled-back test


def _open(engine: sa.Engine) -> _Transaction:
    connection = engine.connect()
    if engine.dialect.name == "sqlite":
        # pysqlite begins transactions itself and mishandles SAVEPOINT: let SQLite do it (SQLAlchemy's
        # documented recipe), on this connection only.
        connection.connection.driver_connection.isolation_level = None
    return _Transaction(engine, connection, _begin(connection))


def _begin(connection: sa.Connection) -> sa.RootTransaction:
    outer = connection.begin()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN")
    return outer


def _close(transaction: _Transaction) -> None:
    transaction.outer.rollback()
    if transaction.engine.dialect.name == "sqlite":
        transaction.connection.connection.driver_connection.isolation_level = ""
    transaction.connection.close()


def scene_in_transaction() -> str | None:
    """The scene whose rows the running test's transaction already holds (from the test before)."""
    return _running.scene if _running is not None else None


def claim_scene() -> None:
    _running.claimed = True


def discard_scene() -> None:
    """Roll the running test's transaction back to empty tables (before its first write: a scene)."""
    db.session.rollback()
    _running.outer.rollback()
    _running.outer = _begin(_running.connection)
    _running.scene, _running.after_scene, _running.claimed = None, None, False


def scene_written(name: str) -> None:
    """The scene's rows are committed into the outer transaction: what the test writes from now on is
    rolled back, at its end, to this point."""
    if _running is not None:
        db.session.commit()  # the session's own savepoint (reads since) must not enclose the one below
        _running.scene, _running.claimed = name, True
        _running.after_scene = _running.connection.begin_nested()


@contextmanager
def rolled_back_transaction(may_keep_scene: bool = False) -> Iterator[sa.Connection]:
    """Bind every session of `app` to one connection inside an outer transaction that is rolled back:
    each session works in a SAVEPOINT (join_transaction_mode="create_savepoint"), so what a request
    commits is visible to the test and to the next request, and vanishes without a single DELETE.

    may_keep_scene: the test asks for scenes; it may start on the scene the test before left (see
    _Transaction), and leave its own for the next one."""
    global _held, _running
    engines = db.engines  # the dict Flask-SQLAlchemy's Session.get_bind reads
    engine = engines[None]
    if _held is not None and (not may_keep_scene or _held.engine is not engine):
        _close(_held)
        _held = None
    transaction, _held = _held or _open(engine), None
    transaction.claimed = False
    _running = transaction
    engines[None] = transaction.connection
    # The test's own session keeps what it committed loaded (requests and commands expire it afterwards),
    # which spares a reload of every object a factory made.
    db.session().expire_on_commit = False
    try:
        yield transaction.connection
    finally:
        db.session.remove()
        _running = None
        engines[None] = engine
        unclaimed = transaction.scene if not transaction.claimed else None
        if unclaimed is None and transaction.after_scene is not None and transaction.after_scene.is_active:
            transaction.after_scene.rollback()
            transaction.after_scene = transaction.connection.begin_nested()
            _held = transaction
        else:
            _close(transaction)
    # Its fixtures (or its body) ask for scenes, but not for the one it started on: it ran on another's data.
    assert unclaimed is None, f"the test started on the rows of the scene {unclaimed!r} and did not ask for it"


def release_held_transaction() -> None:
    """At the end of a worker's session (or before a committing test): nothing stays open."""
    global _held
    if _held is not None:
        _close(_held)
        _held = None


def clean_database() -> None:
    """Empty every table after a committing test: DELETE children first, with the approved-minutes
    triggers lifted, in one transaction (far cheaper than TRUNCATE on PostgreSQL)."""
    with db.engine.begin() as conn:
        _drop_immutability_triggers(conn)
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())
        _create_immutability_triggers(conn)
