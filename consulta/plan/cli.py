"""flask plan export ID: write the plan record as JSON, CSV, PDF or ODT (for archives and publication)."""

from __future__ import annotations

from pathlib import Path

import click

from consulta.plan import bp

FORMATS = ("json", "pdf", "odt", "azioni", "risorse", "provenienza", "indicatori")


@bp.cli.command("export")
@click.argument("plan_id", type=int)
@click.option("--formato", "fmt", type=click.Choice(FORMATS), default="json", show_default=True,
              help="json, pdf, odt, or one of the CSV files (azioni, risorse, provenienza, indicatori).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="File to write; without it JSON and CSV go to standard output.")
def export(plan_id: int, fmt: str, output: Path | None) -> None:
    """Export plan PLAN_ID exactly as /dati/piano/<id>.json, the CSV files, /piano/<id>.pdf or .odt."""
    import json

    from flask_babel import force_locale

    from consulta.extensions import db
    from consulta.plan import exports
    from consulta.plan.models import Plan

    plan = db.session.get(Plan, plan_id)
    if plan is None:
        raise click.ClickException(f"Il piano n. {plan_id} non esiste.")
    with force_locale("it"):
        document = exports.describe(plan)
        if fmt == "json":
            body: bytes | str = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
        elif fmt == "pdf":
            body = exports.plan_pdf(plan, document)
        elif fmt == "odt":
            body = exports.plan_odt(plan, document)
        else:
            body = exports.csv_text(document, fmt)
    if output is None:
        if isinstance(body, bytes):
            raise click.ClickException("Per PDF e ODT indica il file con --output.")
        click.echo(body, nl=False)
        return
    output.write_bytes(body if isinstance(body, bytes) else body.encode("utf-8"))
    click.echo(f"Piano n. {plan_id} esportato in {output}", err=True)
