"""flask ambito init: set up this installation's Ambito, its comuni and its first plan, without code."""

from __future__ import annotations

from datetime import date

import click
from flask_babel import force_locale

from consulta.ambito import bp


@bp.cli.command("init")
@click.option("--nome", "name", help="Nome dell'Ambito, es. «Ambito Territoriale Sociale di Poggiardo».")
@click.option("--numero", "number", default=None, help="Numero dell'Ambito nella regione (facoltativo).")
@click.option("--regione", "region", help="Regione, come nell'elenco ISTAT (es. Puglia).")
@click.option("--comuni", help="I comuni, separati da virgole: nome, «Nome (LE)» o codice ISTAT.")
@click.option("--capofila", "lead", help="Il comune capofila (uno dei comuni).")
@click.option("--piano", "plan_title", default=None, help="Titolo della prima edizione del piano, se non c'è ancora.")
@click.option("--dal", "period_start", type=int, default=None, help="Primo anno del piano.")
@click.option("--al", "period_end", type=int, default=None, help="Ultimo anno del piano.")
def init(name, number, region, comuni, lead, plan_title, period_start, period_end) -> None:
    """Set up (or update) the Ambito from the ISTAT list of comuni; asks for what the options do not say."""
    from consulta.accounts.models import Role, User
    from consulta.ambito.istat import registry
    from consulta.ambito.models import Ambito
    from consulta.ambito.operations import SetupProblem, read_setup, set_up_ambito
    from consulta.extensions import db
    from consulta.plan.models import Plan
    from consulta.plan.operations import create_plan

    current = Ambito.current()
    name = name or click.prompt("Nome dell'Ambito", default=current.name if current else None)
    if number is None and current is None:
        number = click.prompt("Numero dell'Ambito (facoltativo)", default="", show_default=False)
    region = region or click.prompt("Regione", type=click.Choice(registry().regions), show_choices=False,
                                    default=current.region if current else None)
    comuni = comuni or click.prompt("Comuni (separati da virgole)")
    lead = lead or click.prompt("Comune capofila")

    with force_locale("it"):  # no request, so no language to choose: messages in Italian
        try:
            setup = read_setup(name=name, number=number, region=region, comuni=comuni, lead=lead)
            ambito, changes = set_up_ambito(None, setup)
        except SetupProblem as problem:
            db.session.rollback()
            raise click.ClickException("\n".join(problem.messages)) from None

        plan = Plan.current()
        if plan is None:
            year = date.today().year
            period_start = period_start or click.prompt("Primo anno del piano", type=int, default=year)
            period_end = period_end or click.prompt("Ultimo anno del piano", type=int, default=period_start + 2)
            if not 2000 <= period_start <= period_end <= period_start + 10:
                db.session.rollback()
                raise click.ClickException("Gli anni del piano non sono validi (es. --dal 2025 --al 2027).")
            plan_title = plan_title or click.prompt(
                "Titolo del piano", default=f"Piano Sociale di Zona {period_start}–{period_end}")
            plan = create_plan(None, title=plan_title.strip()[:200], period_start=period_start,
                               period_end=period_end, description=None)
    db.session.commit()

    click.echo(f"{ambito.name}: {len(setup.comuni)} comuni, capofila {ambito.lead_comune.name}."
               + ("" if changes else " Nessuna modifica."))
    click.echo(f"Piano: {plan.title} ({plan.period_start}–{plan.period_end}).")
    if db.session.execute(db.select(User.id).where(User.role == Role.admin).limit(1)).first() is None:
        click.echo("Ora crea l'amministratore (Ufficio di Piano): flask create-admin")
