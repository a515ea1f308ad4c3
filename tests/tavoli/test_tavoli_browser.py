"""The tavoli, objective, plan, admin and facilitation pages in a real browser:
zero axe-core violations, no sideways scrolling at 390 px, usable by keyboard."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from consulta.extensions import db
from consulta.tavoli.models import ObjectiveRevision, Tavolo

pytestmark = pytest.mark.browser


@pytest.fixture
def staged(ambito, create_plan, create_tavolo, create_objective, create_user):
    plan = create_plan(description="Il Piano triennale dei servizi sociali dell'Ambito.")
    facilitator = create_user(email="facilitatrice@example.org", display_name="Chiara Benedetti", role="facilitator")
    tavolo = create_tavolo(plan=plan, slug="anziani", title="Anziani e non autosufficienza", area="Anziani",
                           description="Domiciliarità, **sollievo** alle famiglie, contrasto alla solitudine.",
                           facilitators=[facilitator], deadline_days=12)
    create_tavolo(plan=plan, slug="poverta", title="Povertà e inclusione", area="Povertà", phase="discussion")
    objective = create_objective(tavolo, title="Sostenere la domiciliarità",
                                 body="Ampliare l'assistenza domiciliare il lunedì.", author=facilitator)
    db.session.add(ObjectiveRevision(objective_id=objective.id, number=2, title="Sostenere la domiciliarità",
                                     body="Ampliare l'assistenza domiciliare dal lunedì al sabato.",
                                     note="Accolta la richiesta delle famiglie", edited_by_id=facilitator.id))
    db.session.commit()
    return {"plan": plan, "tavolo": tavolo, "objective": objective, "facilitator": facilitator}


def no_sideways_scroll(pg):
    width = pg.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{pg.url} scrolls sideways: {width}px"


def test_public_pages_are_accessible_on_desktop_and_phone(new_page, axe, staged):
    objective = staged["objective"]
    paths = ["/", "/tavoli/", "/tavoli/anziani/", f"/tavoli/anziani/obiettivi/{objective.id}/",
             f"/tavoli/anziani/obiettivi/{objective.id}/revisioni?da=1&a=2", f"/piano/{staged['plan'].id}/"]
    desktop, phone = new_page(), new_page(width=390, height=844)
    for path in paths:
        for pg in (desktop, phone):
            response = pg.goto(path)
            assert response.status == 200, path
            axe(pg)
        no_sideways_scroll(phone)
    phone.goto(f"/tavoli/anziani/obiettivi/{objective.id}/revisioni?da=1&a=2")
    assert phone.locator(".diff-body ins.diff-add").last.inner_text().endswith("al sabato")
    assert phone.locator(".diff-body del.diff-del").first.inner_text().endswith("il")


def test_facilitator_publishes_and_revises_an_objective_by_keyboard(new_page, axe, staged, login_page):
    pg = new_page()
    login_page(pg, staged["facilitator"])
    pg.goto("/facilitazione/")
    axe(pg)
    pg.get_by_role("link", name="Nuovo obiettivo – Anziani e non autosufficienza").click()
    axe(pg)
    pg.get_by_label("Titolo dell'obiettivo").fill("Contrastare la solitudine")
    pg.get_by_label("Testo").fill("Una rete di compagnia con il volontariato.")
    pg.get_by_label("Testo").press("Tab")
    assert pg.evaluate("document.activeElement.textContent.trim()") == "Salva"
    with pg.expect_navigation():
        pg.keyboard.press("Enter")
    expect(pg.locator("h1")).to_have_text("Contrastare la solitudine")
    assert "Questa è una bozza" in pg.content()
    pg.get_by_role("button", name="Pubblica").click()
    expect(pg.locator(".alert-success")).to_contain_text("revisione 1")
    pg.get_by_role("link", name="Modifica").click()
    pg.get_by_label("Testo").fill("Una rete di compagnia con il volontariato e le parrocchie.")
    pg.get_by_label("Motivo della modifica").fill("Proposta del tavolo del 3 marzo")
    pg.get_by_role("button", name="Salva").click()
    expect(pg.locator(".alert-success")).to_contain_text("revisione 2")
    axe(pg)
    pg.get_by_role("link", name="Cosa è cambiato rispetto alla revisione 1").click()
    expect(pg.locator(".diff-body ins.diff-add").first).to_contain_text("e le parrocchie")
    axe(pg)


def test_admin_creates_a_tavolo_in_the_browser(new_page, axe, staged, create_user, login_page):
    admin = create_user(email="admin@example.org", display_name="Ufficio di Piano", role="admin")
    pg = new_page()
    login_page(pg, admin)
    pg.goto("/gestione/piani/")
    axe(pg)
    pg.get_by_role("link", name=staged["plan"].title).click()
    axe(pg)
    pg.get_by_role("link", name="Nuovo tavolo").click()
    axe(pg)
    # Submitting an empty form shows the errors next to the fields, still accessible.
    pg.get_by_role("button", name="Salva").click()
    expect(pg.locator("#form-errors")).to_contain_text("Il modulo contiene errori")
    axe(pg)
    pg.get_by_label("Titolo").fill("Disabilità e vita indipendente")
    pg.get_by_label("Area di intervento").fill("Disabilità")
    # Bootstrap Italia draws checkboxes and radios on their labels: click those, as people do.
    pg.locator("label", has_text="Chiara Benedetti").click()
    expect(pg.get_by_label("Chiara Benedetti")).to_be_checked()
    pg.get_by_label("Termine per le proposte: giorno").fill("2030-03-31")
    pg.get_by_label("Termine per le proposte: ora").fill("12:00")
    pg.locator("label", has_text="Preventiva").click()
    pg.get_by_role("button", name="Salva").click()
    expect(pg.locator("h1")).to_have_text("Disabilità e vita indipendente")
    assert "Bozza · non visibile al pubblico" in pg.content()
    axe(pg)
    tavolo = db.session.execute(select(Tavolo).where(Tavolo.slug == "disabilita-e-vita-indipendente")).scalar_one()
    assert tavolo.moderation == "pre" and [f.display_name for f in tavolo.facilitators] == ["Chiara Benedetti"]

    pg.once("dialog", lambda dialog: dialog.accept())
    pg.get_by_role("button", name="Apri alle proposte").click()
    expect(pg.locator(".phase-open").first).to_have_text("Aperto alle proposte")


def test_admin_forms_fit_a_phone(new_page, axe, staged, create_user, login_page):
    admin = create_user(email="admin@example.org", role="admin")
    phone = new_page(width=390, height=844)
    login_page(phone, admin)
    plan_id = staged["plan"].id
    for path in ("/gestione/piani/", "/gestione/piani/nuovo", f"/gestione/piani/{plan_id}/",
                 f"/gestione/piani/{plan_id}/modifica", f"/gestione/piani/{plan_id}/tavoli/nuovo",
                 "/gestione/tavoli/anziani/modifica", "/facilitazione/",
                 f"/facilitazione/tavoli/anziani/obiettivi/{staged['objective'].id}/modifica"):
        assert phone.goto(path).status == 200, path
        axe(phone)
        no_sideways_scroll(phone)
