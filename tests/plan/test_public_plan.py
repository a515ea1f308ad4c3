"""The public plan: areas → objectives → actions, each action with its "Origine" panel;
budget totals computed in SQL (exact euro on both databases) as tables and SVG charts;
the per-comune view; the change log; a bounded number of queries whatever the size."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from consulta.core.fragments import fragments
from consulta.extensions import db
from consulta.plan.record import (
    BudgetLine,
    Indicator,
    IndicatorValue,
    PlanAction,
    PlanInput,
    PlanObjective,
    ProgressUpdate,
)
from tests.plan.helpers import section, text


def card(page: str, action) -> str:
    return page.split(f'id="azione-{action.id}"')[1].split("</article>")[0]


@pytest.fixture
def recorded(stage, admin_user, build_action, ambito):
    """An objective from the approved proposals and two actions with budget lines."""
    from consulta.ambito.models import Comune
    from consulta.plan import record_operations as ops

    d = stage["decisions"]
    amelia = db.session.execute(select(Comune).where(Comune.name == "Amelia")).scalar_one()
    centro = build_action(stage["area"], admin_user, title="Centro diurno Alzheimer",
                          budget=(("12500.50", "fnps", 2025), ("7499.50", "comunali", 2026)),
                          decisions=[d["Centro diurno a Narni"]], objective_decisions=[d["Trasporto sociale serale"]])
    trasporto = build_action(stage["area"], admin_user, objective=centro.objective, title="Trasporto sociale ad Amelia",
                             budget=(("3000.00", "fna", 2025),), comuni=[amelia],
                             decisions=[d["Trasporto sociale serale"]])
    poverta = ops.create_area(stage["area"].plan, admin_user, title="Povertà", description="", tavoli=[])
    build_action(poverta, admin_user, title="Emporio solidale", budget=(("1000.00", "fondo_poverta", 2027),))
    db.session.commit()
    return {**stage, "action": centro, "other_action": trasporto, "amelia": amelia}


def test_plan_page_shows_areas_objectives_actions(client, plan, recorded):
    page = text(client.get(f"/piano/{plan.id}/")).split('class="plan-area', 1)[1]
    assert page.index("Anziani e non autosufficienza") < page.index("Obiettivo di Centro diurno Alzheimer") \
        < page.index("Centro diurno Alzheimer") < page.index("Trasporto sociale ad Amelia") < page.index("Povertà")
    centro = card(page, recorded["action"])
    assert "Un servizio <strong>nuovo</strong>." in centro
    assert "Tutti i comuni dell'Ambito" in centro and "Comune" in centro and "20.000,00 €" in centro
    trasporto = card(page, recorded["other_action"])
    assert "<dd>Amelia</dd>" in trasporto


def test_the_origin_panel_links_proposal_organisation_tally_and_minutes(client, plan, recorded):
    page = text(client.get(f"/piano/{plan.id}/"))
    centro = card(page, recorded["action"])
    panel = centro.split('class="accordion plan-origin"')[1]
    minutes = recorded["minutes"]
    assert "Origine" in panel and "(1 decisione)" in panel
    assert f'href="/proposte/{recorded["decisions"]["Centro diurno a Narni"].proposal_id}/"' in panel
    assert "«Centro diurno a Narni»" in panel
    assert "Auser Narni" in panel and "Organizzazione di volontariato" in panel
    assert "2 favorevoli · 0 contrari · 0 astenuti" in panel
    assert re.search(r"Cittadino/a</th><td[^>]*>1</td>", panel)
    assert "Accolta" in panel
    assert f'href="/verbali/{minutes.id}/"' in panel and minutes.content_hash in panel
    # The objective has its own panel for the partially approved proposal.
    objective_id = recorded["action"].objective_id
    objective = page.split(f'id="obiettivo-{objective_id}"')[1]
    assert "Origine dell'obiettivo" in objective.split("plan-actions")[0]
    assert "Accolta in parte" in objective.split("plan-actions")[0]


def test_accordion_markup_is_keyboard_and_screen_reader_ready(client, plan, recorded, build_action, admin_user):
    d = recorded["decisions"]
    several = build_action(recorded["area"], admin_user, title="Due origini",
                           decisions=[d["Centro diurno a Narni"], d["Trasporto sociale serale"]])
    db.session.commit()
    html = client.get(f"/piano/{plan.id}/").get_data(as_text=True)

    def panel(action):
        key = f"azione-{action.id}-origine"
        assert f'aria-controls="{key}-contenuto"' in html and f'aria-labelledby="{key}-titolo"' in html
        button = html.split(f'aria-controls="{key}-contenuto"')[0].rsplit("<button", 1)[1]
        region = html.split(f'id="{key}-contenuto"')[1].split(">")[0]
        return button, region

    # One origin: the panel starts open, and says so; several: closed.
    button, region = panel(recorded["action"])
    assert 'aria-expanded="true"' in button and "collapsed" not in button and "show" in region
    button, region = panel(several)
    assert 'aria-expanded="false"' in button and "collapsed" in button and "show" not in region


def test_budget_totals_by_area_source_and_year(client, plan, recorded):
    page = text(client.get(f"/piano/{plan.id}/"))
    budget = section(page, "risorse")
    assert "Totale: 24.000,00 €" in re.sub(r"<[^>]+>", "", budget)
    by_area = section(page, "risorse-tabella-area") if 'id="risorse-tabella-area"' in page else budget
    assert re.search(r"Anziani e non autosufficienza</th><td[^>]*>23.000,00 €", by_area)
    assert re.search(r"Povertà</th><td[^>]*>1.000,00 €", by_area)
    assert re.search(r"FNPS – Fondo nazionale politiche sociali</th><td[^>]*>12.500,50 €", budget)
    assert re.search(r"Risorse comunali</th><td[^>]*>7.499,50 €", budget)
    assert re.search(r">2025</th><td[^>]*>15.500,50 €", budget)
    assert re.search(r">2026</th><td[^>]*>7.499,50 €", budget)
    assert re.search(r">2027</th><td[^>]*>1.000,00 €", budget)
    # Accessible charts: an image with a title and a description stating the figures, beside the table.
    charts = re.findall(r'<svg class="plan-chart"[^>]*role="img"[^>]*>.*?</svg>', budget, re.S)
    assert len(charts) == 3
    assert "<title" in charts[0] and "Grafico delle risorse per area" in charts[0]
    assert "Anziani e non autosufficienza: 23.000,00 €" in charts[0]


def test_totals_are_summed_in_sql(client, plan, recorded, count_queries):
    with count_queries() as counter:
        client.get(f"/piano/{plan.id}/")
    grouped = [s.lower() for s in counter.statements if "group by" in s.lower() and "plan_budget_line" in s.lower()]
    assert len(grouped) == 3  # by area, by source, by year


def test_euro_totals_are_exact_on_every_database(app, plan, stage, admin_user, build_action):
    """Many amounts with cents, up to a billion, add up to the exact cent, as Decimal."""
    from consulta.plan import queries

    amounts = ["0.10", "0.20", "0.70", "999999999.99", "0.01", "12345678.91"] * 7
    build_action(stage["area"], admin_user, budget=[(a, "altro", 2025) for a in amounts])
    totals = queries.budget_totals(plan.id)
    expected = sum((Decimal(a) for a in amounts), Decimal("0"))
    assert totals.total == expected == Decimal("7086419759.37")
    assert isinstance(totals.total, Decimal)
    assert totals.by_source[0].amount == expected and totals.by_year[0].amount == expected


def test_per_comune_view(client, plan, recorded):
    response = client.get(f"/piano/{plan.id}/comuni/amelia")
    assert response.status_code == 200
    page = text(response)
    assert "<h1" in page and "Cosa prevede il piano per Amelia" in page
    assert "Trasporto sociale ad Amelia" in page and "Centro diurno Alzheimer" in page  # the whole Ambito's too
    assert "Emporio solidale" in page
    otricoli = text(client.get(f"/piano/{plan.id}/comuni/otricoli"))
    assert "Trasporto sociale ad Amelia" not in otricoli and "Centro diurno Alzheimer" in otricoli
    assert "Totale: 21.000,00 €" in re.sub(r"<[^>]+>", "", section(otricoli, "risorse-comune"))
    assert "non è ripartita fra i comuni" in otricoli
    assert client.get(f"/piano/{plan.id}/comuni/atlantide").status_code == 404


def test_per_comune_view_without_actions(client, plan, ambito):
    page = text(client.get(f"/piano/{plan.id}/comuni/narni"))
    assert "Il piano non prevede ancora azioni per questo comune." in page


def test_public_change_log_and_item_history(client, plan, recorded):
    log = text(client.get(f"/piano/{plan.id}/modifiche"))
    assert "Registro delle modifiche" in log and "Ufficio di Piano" in log and "Redazione" in log
    assert "Collegamento a una decisione" in log
    action = recorded["action"]
    history = text(client.get(f"/piano/{plan.id}/modifiche/azione/{action.id}"))
    assert "Storia di «Centro diurno Alzheimer»" in history
    assert "12.500,50 €" in history and "FNPS – Fondo nazionale politiche sociali" in history
    assert "Trasporto sociale ad Amelia" not in history
    assert client.get(f"/piano/{plan.id}/modifiche/azione/999999").status_code == 404
    assert client.get(f"/piano/{plan.id}/modifiche/boh/{action.id}").status_code == 404
    assert client.get(f"/piano/{plan.id}/modifiche?pagina=0").status_code == 400  # the one page rule


def test_the_public_page_of_a_plan_without_record(client, plan):
    page = text(client.get(f"/piano/{plan.id}/"))
    assert "Il piano è in preparazione" in page and "Nessuna risorsa ancora indicata." in page


def test_pending_decisions_are_counted_publicly(client, plan, stage):
    page = text(client.get(f"/piano/{plan.id}/"))
    assert "2 decisioni approvate dai tavoli sono in attesa di essere recepite nel piano." in page


# --------------------------------------------------------------------------- bounded queries

def _grow(plan, area, decision, until: int) -> None:
    """Add objectives of ten actions each (budget, indicator, comune, input, progress) up to `until` actions."""
    from consulta.ambito.models import Comune

    comune = db.session.execute(select(Comune).order_by(Comune.id)).scalars().first()
    have = len(db.session.execute(select(PlanAction.id).where(PlanAction.plan_id == plan.id)).all())
    while have < until:
        objective = PlanObjective(plan_id=plan.id, area_id=area.id, title=f"Obiettivo {have}", position=have)
        db.session.add(objective)
        db.session.flush()
        db.session.add(PlanInput(plan_id=plan.id, plan_objective_id=objective.id, decision_id=decision.id,
                                 proposal_id=decision.proposal_id))
        for i in range(10):
            action = PlanAction(plan_id=plan.id, objective_id=objective.id, title=f"Azione {have + i}",
                                all_comuni=i % 2 == 0, position=i, status="in_progress")
            if i % 2:
                action.comuni = [comune]
            db.session.add(action)
            db.session.flush()
            db.session.add_all([
                BudgetLine(plan_id=plan.id, action_id=action.id, amount=Decimal("100.10"), funding_source="fnps",
                           year=2025),
                BudgetLine(plan_id=plan.id, action_id=action.id, amount=Decimal("0.90"), funding_source="pnrr",
                           year=2026),
                PlanInput(plan_id=plan.id, plan_action_id=action.id, decision_id=decision.id,
                          proposal_id=decision.proposal_id),
            ])
            indicator = Indicator(plan_id=plan.id, action_id=action.id, name="Persone", unit="", target=Decimal(10))
            db.session.add(indicator)
            db.session.flush()
            update = ProgressUpdate(plan_id=plan.id, action_id=action.id, reported_on=date.today() - timedelta(days=1),
                                    text="Fatto.", text_html="<p>Fatto.</p>", author_name="Fabio")
            update.values.append(IndicatorValue(indicator_id=indicator.id, value=Decimal(4)))
            db.session.add(update)
        have += 10
    db.session.commit()


@pytest.mark.parametrize("adopted", [False, True])
def test_the_plan_page_costs_the_same_queries_with_10_or_300_actions(client, plan, stage, count_queries, adopted):
    decision = stage["decisions"]["Centro diurno a Narni"]
    _grow(plan, stage["area"], decision, 10)
    if adopted:
        from consulta.core.db import utcnow
        from consulta.plan.models import Plan
        from consulta.plan.record import RevisionSet

        db.session.execute(Plan.__table__.update().where(Plan.id == plan.id).values(
            status="monitoring", adoption_reference="Delibera n. 1", adoption_date=date(2025, 1, 1)))
        # An open aggiornamento lets the test add the next 290 actions to the adopted record.
        db.session.add(RevisionSet(plan_id=plan.id, number=1, reason="Crescita", opened_at=utcnow(),
                                   opened_by_name="Ufficio di Piano"))
        db.session.commit()
        db.session.expire_all()
    url = f"/piano/{plan.id}/"  # counted below: the page's statements, not the test's own
    client.get(url)
    with count_queries() as small_kept:
        client.get(url)
    fragments("plan").clear()  # a worker that has not rendered the page yet
    with count_queries() as few:
        small = client.get(url)
    assert small.status_code == 200
    _grow(plan, stage["area"], decision, 300)
    # _grow writes the rows directly, without the PlanRevision each operation writes (and the page's key
    # counts): here the workers are new instead.
    fragments("plan").clear()
    with count_queries() as many:
        large = client.get(url)
    assert large.status_code == 200
    page = text(large)
    assert "Azione 299" in page and "30.300,00 €" in page  # 300 × 101,00 €
    if adopted:
        assert "Raggiunto 4 su 10 (40%)" in page
    assert many.count == few.count, (few.count, many.count)
    with count_queries() as large_kept:
        assert client.get(url).data == large.data
    assert large_kept.count == small_kept.count < few.count, (small_kept.count, large_kept.count, few.count)
