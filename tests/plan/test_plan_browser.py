"""In a real browser: from two approved decisions the facilitator writes a plan objective and
an action with budget lines; the public plan shows the action and where it came from; the
admin adopts the plan, edits are refused; an aggiornamento changes a budget line and the
change log shows old → new. Every page passes axe-core."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from consulta.extensions import db
from consulta.plan.record import BudgetLine, PlanAction, PlanObjective

pytestmark = pytest.mark.browser


def test_from_decisions_to_an_adopted_plan_and_its_aggiornamento(
        new_page, login_page, axe, plan, stage, facilitator, admin_user):
    d = stage["decisions"]
    minutes = stage["minutes"]
    fac = new_page()
    login_page(fac, facilitator)

    # 1. The two approved decisions are waiting; the facilitator turns them into a plan objective.
    fac.goto(f"/facilitazione/piano/{plan.id}/")
    pending = fac.locator("#da-recepire")
    assert "Centro diurno a Narni" in pending.inner_text() and "Piscina comunale" not in pending.inner_text()
    axe(fac)
    fac.get_by_label(re.compile("«Centro diurno a Narni»")).check(force=True)
    fac.get_by_label(re.compile("«Trasporto sociale serale»")).check(force=True)
    fac.get_by_label("Creare un nuovo obiettivo del piano").check(force=True)
    fac.get_by_label("Area del nuovo obiettivo").select_option(label="Anziani e non autosufficienza")
    fac.locator("#title").fill("Servizi diurni per gli anziani")
    fac.get_by_role("button", name="Recepisci nel piano").click()
    fac.wait_for_url(re.compile(r"/obiettivi/\d+/$"))
    assert "salvato con 2 decisioni recepite" in fac.content()
    assert "Centro diurno a Narni" in fac.locator("#provenienza").inner_text()
    axe(fac)

    # 2. An action in the objective, then two budget lines.
    fac.get_by_role("link", name="Nuova azione").click()
    fac.locator("#title").fill("Centro diurno Alzheimer a Narni")
    fac.locator("#description").fill("Apertura di un centro diurno **per persone con demenza**.")
    fac.locator("#beneficiaries").fill("Persone con demenza e loro famiglie")
    fac.locator("#responsible_body").fill("Comune di Narni")
    fac.locator("#start_date").fill("2025-09-01")
    fac.locator("#end_date").fill("2027-12-31")
    axe(fac)
    fac.get_by_role("button", name="Salva l'azione").click()
    fac.wait_for_url(re.compile(r"/azioni/\d+/$"))
    for amount, year, source in (("12.500,00", "2025", "fnps"), ("2.000,50", "2026", "comunali")):
        fac.locator("#amount").fill(amount)
        fac.locator("#year").fill(year)
        fac.locator("#funding_source").select_option(source)
        fac.get_by_role("button", name="Aggiungi la voce di spesa").click()
        fac.wait_for_url(re.compile(r"/azioni/\d+/#risorse$"))
    assert "14.500,50" in fac.locator("#risorse").inner_text()
    axe(fac)
    action = db.session.execute(select(PlanAction)).scalar_one()
    assert db.session.execute(select(PlanObjective.title)).scalar_one() == "Servizi diurni per gli anziani"

    # 3. The public plan shows the action; its origin panel links to the proposals and to the minutes.
    public = new_page()
    public.goto(f"/piano/{plan.id}/")
    card = public.locator(f"#azione-{action.id}")
    assert "Centro diurno Alzheimer a Narni" in card.inner_text()
    objective_panel = public.locator(f"#obiettivo-{action.objective_id}-origine")
    objective_panel.get_by_role("button", name=re.compile("Origine dell'obiettivo")).click()
    body = objective_panel.locator(".accordion-collapse")
    body.wait_for(state="visible")
    assert "Auser Narni" in body.inner_text() and "Accolta in parte" in body.inner_text()
    assert body.get_by_role("link", name="«Centro diurno a Narni»").get_attribute("href") == \
        f"/proposte/{d['Centro diurno a Narni'].proposal_id}/"
    minutes_link = body.get_by_role("link", name=f"verbale n. {minutes.id}").first
    assert minutes_link.get_attribute("href") == f"/verbali/{minutes.id}/"
    assert minutes.content_hash in body.inner_text()
    axe(public)
    minutes_link.click()
    public.wait_for_url(re.compile(rf"/verbali/{minutes.id}/$"))
    assert minutes.content_hash in public.content()

    # 4. The admin adopts the plan.
    adm = new_page()
    login_page(adm, admin_user)
    adm.goto(f"/facilitazione/piano/{plan.id}/")
    adm.get_by_label("Riferimento della deliberazione").fill("Deliberazione del Coordinamento Istituzionale n. 4")
    adm.get_by_label("Data della deliberazione").fill("2025-06-30")
    adm.get_by_role("button", name="Adotta il piano").click()
    adm.wait_for_load_state()
    assert "Il piano è adottato" in adm.content()
    axe(adm)

    # 5. Edits are now refused.
    fac.goto(f"/facilitazione/piano/{plan.id}/azioni/{action.id}/")
    assert fac.get_by_role("link", name="Modifica l'azione").count() == 0
    assert "Contenuto congelato" in fac.content()
    response = fac.goto(f"/facilitazione/piano/{plan.id}/azioni/{action.id}/modifica")
    assert response.status == 409
    assert "deve aprire un aggiornamento" in fac.content()

    # 6. An aggiornamento changes a budget line; the change log shows old → new within it.
    adm.get_by_label("Motivo dell'aggiornamento").fill("Aggiornamento annuale 2026")
    adm.get_by_role("button", name="Apri l'aggiornamento").click()
    adm.wait_for_load_state()
    assert "Aggiornamento n. 1 aperto" in adm.content()
    line = db.session.execute(select(BudgetLine).where(BudgetLine.year == 2025)).scalar_one()
    adm.goto(f"/facilitazione/piano/{plan.id}/risorse/{line.id}/modifica")
    adm.locator("#amount").fill("13.000,00")
    adm.get_by_role("button", name="Salva").click()
    adm.wait_for_url(re.compile(r"#risorse$"))
    adm.goto(f"/piano/{plan.id}/modifiche")
    change = adm.locator(".plan-change").first
    change_text = change.inner_text()
    assert "Aggiornamento n. 1" in change_text and "Ufficio di Piano" in change_text
    assert re.search(r"12\.500,00\s€.*13\.000,00\s€", change_text, re.S)
    axe(adm)

    # 7. The per-comune view and the public plan after the aggiornamento pass axe too.
    public.goto(f"/piano/{plan.id}/comuni/amelia")
    assert "Centro diurno Alzheimer a Narni" in public.content()
    axe(public)
    public.goto(f"/piano/{plan.id}/")
    assert "15.000,50" in public.locator("#risorse").inner_text()
    axe(public)


def test_the_plan_pages_work_at_390_pixels(new_page, axe, plan, stage, admin_user, build_action):
    action = build_action(stage["area"], admin_user, decisions=[stage["decisions"]["Centro diurno a Narni"]],
                          budget=(("1250000.00", "fnps", 2025), ("30000.00", "pnrr", 2026)))
    phone = new_page(width=390, height=844)
    for path in (f"/piano/{plan.id}/", f"/piano/{plan.id}/comuni/narni", f"/piano/{plan.id}/modifiche",
                 f"/piano/{plan.id}/modifiche/azione/{action.id}"):
        phone.goto(path)
        overflow = phone.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, (path, overflow)
        axe(phone)
