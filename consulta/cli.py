"""flask commands: create-admin, demo."""

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
        from consulta.accounts.operations import create_admin_account, PasswordProblem

        try:
            user = create_admin_account(email=email, display_name=display_name, password=password)
            db.session.commit()
        except PasswordProblem as problem:
            db.session.rollback()
            raise click.ClickException(str(problem)) from None
        except IntegrityError:
            db.session.rollback()
            raise click.ClickException(f"Esiste già un account con l'e-mail {email}.") from None
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
