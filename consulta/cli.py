"""flask commands: create-admin, demo, rerender-text; the domains' own (digests, meetings, stats) are registered here."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy.exc import IntegrityError

from consulta.extensions import db


def register(app: Flask) -> None:
    @app.cli.command("create-admin")
    @click.option("--email", prompt="E-mail")
    @click.option("--name", "display_name", prompt="Nome visualizzato")
    @click.option("--password", prompt="Password", hide_input=True, confirmation_prompt=True)
    def create_admin(email: str, display_name: str, password: str) -> None:
        """Create an administrator (Ufficio di Piano), e-mail already verified."""
        from flask_babel import force_locale

        # No request here, so no locale to select: messages are in Italian.
        with force_locale("it"):
            _create_admin(email, display_name, password)

    def _create_admin(email: str, display_name: str, password: str) -> None:
        from email_validator import EmailNotValidError, validate_email

        from consulta.accounts.models import User
        from consulta.accounts.operations import PasswordProblem, create_admin_account
        from consulta.core.text import clean_plain

        try:
            email = validate_email(email.strip(), check_deliverability=False).normalized
        except EmailNotValidError:
            raise click.ClickException(f"L'indirizzo e-mail «{email}» non è valido.") from None
        display_name = clean_plain(display_name)
        if not display_name:
            raise click.ClickException("Indica un nome da mostrare.")
        if len(display_name) > 120:
            raise click.ClickException("Il nome può avere al massimo 120 caratteri.")
        if User.by_email(email) is not None:
            raise click.ClickException(f"Esiste già un account con l'e-mail {email.lower()}.")
        try:
            user = create_admin_account(email=email, display_name=display_name, password=password)
            db.session.commit()
        except PasswordProblem as problem:
            db.session.rollback()
            raise click.ClickException(str(problem)) from None
        except IntegrityError:  # created by someone else in the meantime
            db.session.rollback()
            raise click.ClickException(f"Esiste già un account con l'e-mail {email.lower()}.") from None
        click.echo(f"Amministratore creato: {user.email} (id {user.id})")

    @app.cli.command("demo")
    @click.option("--quiet", is_flag=True, help="Do not print the demo accounts.")
    def demo(quiet: bool) -> None:
        """Load the demo Ambito (idempotent) and print the demo accounts."""
        from consulta.demo import DEMO_ACCOUNTS, load_demo

        created = load_demo()
        db.session.commit()
        click.echo("Demo caricata." if created else "Demo già presente: nulla da fare.")
        if not quiet:
            click.echo("Account dimostrativi (e-mail / password):")
            for role, email, password in DEMO_ACCOUNTS:
                click.echo(f"  {role:<24} {email:<32} {password}")

    @app.cli.command("rerender-text")
    @click.option("--batch-size", default=500, show_default=True, type=click.IntRange(min=1))
    def rerender_text(batch_size: int) -> None:
        """Render every stored user text again under the current sanitising policy (idempotent)."""
        from consulta.stored_text import rerender_all

        counts = rerender_all(batch_size=batch_size)
        for name, rewritten in counts.items():
            click.echo(f"{name:<36} {rewritten} righe riscritte")
        click.echo(f"Testi riscritti: {sum(counts.values())}.")

    from consulta.digests.cli import register as register_digests

    register_digests(app)

    from consulta.meetings.cli import register as register_meetings

    register_meetings(app)

    from consulta.stats.cli import register as register_stats

    register_stats(app)
