"""In a real browser: a representative puts forward a proposal for the organisation."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from consulta.extensions import db
from consulta.proposals.models import Proposal

pytestmark = pytest.mark.browser


def test_a_representative_submits_a_proposal_on_behalf_of_the_organisation(
        cast, open_tavolo, create_objective, page, axe, login_page):
    objective = create_objective(open_tavolo, title="Più assistenza domiciliare")
    login_page(page, cast.representative)

    page.goto(f"/tavoli/{open_tavolo.slug}/")
    page.get_by_role("link", name="Presenta una proposta").first.click()
    page.wait_for_url(re.compile(r"/proposte/nuova$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Nuova proposta"
    axe(page)

    # An empty submission is refused with the errors next to the fields, and nothing is lost.
    page.get_by_label("Testo della proposta").fill("Un pulmino attrezzato per le visite mediche.")
    page.get_by_role("button", name="Invia la proposta").click()
    assert page.get_by_text("Scrivi il titolo della proposta.").first.is_visible()
    assert page.get_by_label("Testo della proposta").input_value() == "Un pulmino attrezzato per le visite mediche."
    axe(page)

    page.locator("#title").fill("Trasporto sociale il sabato 🚐")
    page.get_by_label("Obiettivo collegato").select_option(label="Più assistenza domiciliare")
    page.get_by_label("A nome di Auser Narni").check()
    page.get_by_role("button", name="Invia la proposta").click()

    page.wait_for_url(re.compile(r"/proposte/\d+/$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Trasporto sociale il sabato 🚐"
    assert page.get_by_text("La tua proposta è stata pubblicata.").is_visible()
    main = page.locator("main").inner_text()
    assert "Auser Narni" in main and "Organizzazione di volontariato" in main
    assert "Più assistenza domiciliare" in main and "Pubblicata" in main
    axe(page)

    stored = db.session.execute(select(Proposal)).scalar_one()
    assert stored.organisation_id == cast.organisation.id and stored.objective_id == objective.id

    page.get_by_role("link", name=open_tavolo.title).first.click()
    page.wait_for_url(re.compile(rf"/tavoli/{open_tavolo.slug}/$"))
    card = page.locator(".proposal-card", has_text="Trasporto sociale il sabato 🚐")
    assert card.count() == 1
    assert "Auser Narni" in card.inner_text() and "1 proposta" in page.locator("#proposte").inner_text()

    # The same pages work on a phone-sized screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/proposte/{stored.id}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.goto(f"/tavoli/{open_tavolo.slug}/proposte/nuova")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_author_withdraws_by_keyboard_after_confirming(cast, open_tavolo, create_proposal, page,
                                                           axe, login_page):
    proposal = create_proposal(open_tavolo, cast.citizen, title="Da ritirare")
    login_page(page, cast.citizen)
    page.goto(f"/proposte/{proposal.id}/")

    page.get_by_role("link", name="Ritira la proposta").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/ritira$"))
    axe(page)
    page.get_by_label("Motivo del ritiro").fill("Già coperta da un'altra proposta.")
    page.get_by_role("button", name="Sì, ritira la proposta").focus()
    page.keyboard.press("Enter")

    page.wait_for_url(re.compile(rf"/proposte/{proposal.id}/$"))
    assert page.get_by_text("Hai ritirato la proposta.").is_visible()
    assert "Già coperta da un'altra proposta." in page.locator("main").inner_text()
    db.session.expire_all()
    assert db.session.get(Proposal, proposal.id).state == "withdrawn"


def test_the_tavolo_listing_filters_and_the_edit_form_are_accessible(
        cast, open_tavolo, create_proposal, page, axe, login_page):
    proposal = create_proposal(open_tavolo, cast.citizen, title="Centro diurno")
    create_proposal(open_tavolo, cast.representative, title="Trasporto", organisation=cast.organisation)
    login_page(page, cast.citizen)

    page.goto(f"/tavoli/{open_tavolo.slug}/")
    page.get_by_label("Categoria di chi propone").select_option("volunteer")
    page.get_by_role("button", name="Cerca").click()
    page.wait_for_url(re.compile(r"categoria=volunteer"))
    assert page.locator(".proposal-card").count() == 1
    assert "1 proposta trovata" in page.locator("#proposte").inner_text()
    axe(page)

    page.goto(f"/proposte/{proposal.id}/modifica")
    axe(page)
