"""flask send-digests (cron or a systemd timer, docs/digests.md) and flask send-mail (the outbox
sender: once from cron, or `--loop` as a service, docs/mail.md)."""

from __future__ import annotations

import logging
import signal
import sys
import time

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

    @app.cli.command("send-mail")
    @click.option("--loop", is_flag=True, help="Keep running: look at the outbox every --interval seconds.")
    @click.option("--interval", type=click.FloatRange(min=0.1), default=None,
                  help="Seconds between two looks at the outbox in --loop mode (default MAIL_SEND_INTERVAL).")
    @click.option("--limit", type=click.IntRange(min=1), default=None,
                  help="Send at most this many e-mails per round.")
    def send_mail(loop: bool, interval: float | None, limit: int | None) -> None:
        """Deliver the e-mails waiting in the outbox (verification, reset, convocations, digests to retry).

        Exactly once per row; any number of senders may run at once on PostgreSQL (SKIP LOCKED).
        """
        from consulta.digests.sender import MailRun
        from consulta.digests.settings import setting
        from consulta.extensions import db

        if not loop:
            summary = MailRun(limit=limit).run()
            for line in summary.lines():
                click.echo(line)
            if summary.exit_code:
                sys.exit(summary.exit_code)
            return

        pause = float(interval if interval is not None else setting("MAIL_SEND_INTERVAL"))
        stopping = []

        def stop(signum, _frame):
            stopping.append(signum)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        log = logging.getLogger("consulta.send_mail")
        click.echo(f"send-mail: invio della posta in uscita ogni {pause:g} s (Ctrl-C per fermare).", err=True)
        while not stopping:
            try:
                summary = MailRun(limit=limit, stop=lambda: bool(stopping)).run()
            except Exception:  # the database restarting, say: try again at the next round
                log.exception("send-mail: round failed")
                db.session.rollback()
            else:
                if summary.handled or summary.smtp_unreachable:
                    for line in summary.lines():
                        click.echo(line, err=True)
            finally:
                db.session.remove()
            # Sleep in short steps so that a stop signal is honoured at once.
            deadline = time.monotonic() + pause
            while not stopping and time.monotonic() < deadline:
                time.sleep(min(0.2, pause))
