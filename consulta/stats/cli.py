"""flask recount: recompute the maintained counters from the rows they count."""

from __future__ import annotations

import click
from flask import Flask

from consulta.extensions import db
from consulta.stats.recount import recount


def register(app: Flask) -> None:
    @app.cli.command("recount")
    def recount_command() -> None:
        """Recompute the counters of proposals and tavoli (votes, comments, participants, answers)."""
        result = recount()
        db.session.commit()
        if result.proposals or result.tavoli:
            click.echo(f"Contatori corretti: {result.proposals} proposte, {result.tavoli} tavoli.")
        else:
            click.echo("Contatori ricalcolati: erano già tutti esatti.")
