"""Alembic migrations: one head, up from empty, down to base and up again, and the
models agree with them (what `flask db check` checks), on both databases."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from consulta import create_app
from consulta.extensions import db
from tests.conftest import ROOT, fresh_postgres_database, require_postgres, scratch_database_name


@pytest.fixture(params=["sqlite", "postgresql"])
def migration_app(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
    else:
        require_postgres()
        url = fresh_postgres_database(scratch_database_name("_migrations"))
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def _script() -> ScriptDirectory:
    from alembic.config import Config

    config = Config(str(ROOT / "migrations" / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return ScriptDirectory.from_config(config)


def test_single_head():
    assert len(_script().get_heads()) == 1


def test_revision_files_are_named_by_date_and_slug():
    for path in (ROOT / "migrations" / "versions").glob("*.py"):
        date, time, rev, *slug = path.stem.split("_")
        assert len(date) == 8 and date.isdigit() and len(time) == 4 and time.isdigit(), path.name
        assert rev and slug, path.name


def _tables() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}


def _diff() -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def _missing_check_constraints() -> dict[str, set[str]]:
    """CHECK constraints the models declare but the migrated database lacks (autogenerate cannot see them)."""
    inspector = sa.inspect(db.engine)
    missing = {}
    for table in db.metadata.sorted_tables:
        declared = {c.name for c in table.constraints if isinstance(c, sa.CheckConstraint)}
        present = {c["name"] for c in inspector.get_check_constraints(table.name)}
        if declared - present:
            missing[table.name] = declared - present
    return missing


def _trigger_names() -> set[str]:
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "sqlite":
            rows = conn.execute(sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
        else:
            rows = conn.execute(sa.text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"))
        return {row[0] for row in rows}


def test_upgrade_downgrade_upgrade_and_models_match(migration_app):
    from consulta.meetings.models import trigger_names

    upgrade()
    assert _tables() == set(db.metadata.tables)
    assert _diff() == [], "models and migrations disagree: run `flask db migrate`"
    assert _missing_check_constraints() == {}
    assert {name for name, _ in trigger_names(db.engine.dialect.name)} <= _trigger_names()

    downgrade(revision="base")
    assert _tables() == set()

    upgrade()
    assert _tables() == set(db.metadata.tables)
    assert _diff() == []


def test_the_counters_are_filled_from_the_rows_already_there(migration_app):
    """Up to the revision before the counters, then the demo's rows, then up again: each counter holds
    what recounting gives (the demo as the operations built it, on the current schema, is the truth)."""
    from consulta.demo import load_demo
    from consulta.stats.recount import recount

    upgrade()
    load_demo()
    db.session.commit()
    counters = {"proposal": ("listed_at", "votes_for_count", "comments_count"),
                "tavolo": ("proposals_count", "comments_count", "participants_count", "register_count",
                           "answered_count", "listed_count")}

    def snapshot():
        with db.engine.connect() as conn:
            return {table: conn.execute(sa.text(f"SELECT id, {', '.join(columns)} FROM {table} ORDER BY id")).all()
                    for table, columns in counters.items()}

    built = snapshot()
    corrected = recount()
    assert (corrected.proposals, corrected.tavoli) == (0, 0)
    db.session.commit()
    db.session.remove()

    downgrade(revision="b7c1e0a4d2f9")
    upgrade()

    assert snapshot() == built
