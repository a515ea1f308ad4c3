"""flask verify-minutes [ID]: recompute the SHA-256 of approved minutes and report mismatches."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from consulta.extensions import db


def register(app: Flask) -> None:
    @app.cli.command("verify-minutes")
    @click.argument("minutes_id", required=False, type=int)
    def verify_minutes(minutes_id: int | None) -> None:
        """Check that approved minutes still match their stored SHA-256 (all, or only ID).

        Exit status 0 when every checked verbale is intact, 1 when any was altered,
        2 when ID is unknown or not approved.
        """
        from consulta.meetings.canonical import content_hash
        from consulta.meetings.models import Decision, Minutes, MinutesStatus

        stmt = (select(Minutes).where(Minutes.status == MinutesStatus.approved)
                .options(selectinload(Minutes.attendance),
                         selectinload(Minutes.decisions).selectinload(Decision.dissents))
                .order_by(Minutes.id))
        if minutes_id is not None:
            found = db.session.get(Minutes, minutes_id)
            if found is None:
                click.echo(f"Verbale n. {minutes_id}: non esiste.", err=True)
                raise SystemExit(2)
            if found.status != MinutesStatus.approved:
                click.echo(f"Verbale n. {minutes_id}: è una bozza, non ha ancora un'impronta da verificare.", err=True)
                raise SystemExit(2)
            stmt = stmt.where(Minutes.id == minutes_id)
        checked = altered = 0
        for minutes in db.session.execute(stmt).scalars():
            checked += 1
            actual = content_hash(minutes)
            if actual == minutes.content_hash:
                click.echo(f"Verbale n. {minutes.id}: integro ({actual}).")
            else:
                altered += 1
                click.echo(f"Verbale n. {minutes.id}: ALTERATO. Impronta registrata {minutes.content_hash}, "
                           f"impronta calcolata ora {actual}.")
        if altered:
            click.echo(f"{altered} verbali alterati su {checked} controllati.", err=True)
            raise SystemExit(1)
        click.echo(f"{checked} verbali controllati: nessuna alterazione.")
