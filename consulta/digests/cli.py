"""flask send-digests: meant for cron or a systemd timer (examples in docs/digests.md)."""

from __future__ import annotations

import sys

import click
from flask import Flask

from consulta.digests.builder import FREQUENCIES


def register(app: Flask) -> None:
    @app.cli.command("send-digests")
    @click.option("--frequency", type=click.Choice(FREQUENCIES), default=None,
                  help="Only people with this digest frequency (default: daily and weekly).")
    @click.option("--dry-run", is_flag=True, help="Show what would be sent; write and send nothing.")
    @click.option("--limit", type=click.IntRange(min=1), default=None,
                  help="Send at most this many e-mails in this run.")
    def send_digests(frequency: str | None, dry_run: bool, limit: int | None) -> None:
        """Build and send the e-mail digests that are due, exactly once per person and period.

        Several workers may run at once on PostgreSQL; on SQLite run one at a time.
        """
        from consulta.digests.sender import DigestRun

        def progress(length: int):
            return click.progressbar(length=length, label="Riepiloghi", show_pos=True, file=sys.stderr)

        frequencies = (frequency,) if frequency else FREQUENCIES
        summary = DigestRun(frequencies, dry_run=dry_run, limit=limit, progress=progress).run()
        for email, subject in summary.previews:
            click.echo(f"  {email}: {subject}")
        for line in summary.lines():
            click.echo(line)
        if summary.exit_code:
            sys.exit(summary.exit_code)
