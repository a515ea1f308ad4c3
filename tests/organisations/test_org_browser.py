"""In a real browser: a representative asks to register an organisation, an admin
verifies it, the public list shows it; the pages have no WCAG 2.1 A/AA violations."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from consulta.accounts.models import User
from consulta.extensions import db
from consulta.organisations.models import Membership, Organisation
from tests.organisations.helpers import BODY_TAX_CODE

pytestmark = pytest.mark.browser


def test_request_verify_and_public_list(new_page, login_page, axe, representative, admin_user, ambito,
                                        create_organisation):
    create_organisation(name="Cooperativa Sociale Il Cerchio", type="social_coop")

    rep = new_page()
    login_page(rep, representative)
    rep.goto("/organizzazioni/")
    axe(rep)
    rep.get_by_role("link", name="Registra un'organizzazione").click()
    rep.wait_for_url("**/organizzazioni/richiesta")
    axe(rep)
    rep.get_by_label("Nome dell'organizzazione").fill("Associazione Il Girasole")
    rep.get_by_label("Tipo di organizzazione").select_option("aps")
    rep.get_by_label("Codice fiscale").fill("01234560554")  # wrong check digit first
    rep.get_by_label("Comune della sede").select_option(label="Amelia")
    rep.get_by_role("button", name="Invia la richiesta").click()
    expect(rep.get_by_text("la cifra di controllo non corrisponde").first).to_be_visible()
    expect(rep.get_by_label("Nome dell'organizzazione")).to_have_value("Associazione Il Girasole")
    axe(rep)  # the form with its errors
    rep.get_by_label("Codice fiscale").fill(BODY_TAX_CODE)
    rep.get_by_role("button", name="Invia la richiesta").click()
    expect(rep.get_by_text("Richiesta inviata")).to_be_visible()
    expect(rep.get_by_text("Hai chiesto di registrare «Associazione Il Girasole»")).to_be_visible()

    admin = new_page()
    login_page(admin, admin_user)
    admin.goto("/gestione/")
    axe(admin)
    admin.get_by_role("link", name="organizzazione da verificare").click()
    axe(admin)
    admin.get_by_text("Respingi…").first.click()  # the reason form opens in place
    expect(admin.locator("textarea[name=reason]").first).to_be_visible()
    admin.get_by_role("button", name="Verifica Associazione Il Girasole").click()
    expect(admin.get_by_text("«Associazione Il Girasole» è verificata")).to_be_visible()

    org = db.session.execute(select(Organisation).where(Organisation.tax_code == BODY_TAX_CODE)).scalar_one()
    assert org.status == "verified"
    membership = db.session.execute(select(Membership).where(Membership.user_id == representative.id)).scalar_one()
    assert membership.status == "active"

    public = new_page(width=390, height=844)
    public.goto("/organizzazioni/")
    section = public.locator("#group-aps").locator("xpath=..")
    expect(section.get_by_role("link", name="Associazione Il Girasole")).to_be_visible()
    axe(public)


def test_admin_users_and_audit_pages_are_accessible(page, login_page, axe, admin_user, create_user):
    person = create_user(display_name="Paola Partecipante")
    login_page(page, admin_user)
    page.goto("/gestione/utenti/")
    axe(page)
    page.get_by_role("link", name="Paola Partecipante").click()
    page.get_by_label("Motivo del blocco").fill("Messaggi offensivi ripetuti.")
    page.get_by_role("button", name="Blocca l'account").click()
    expect(page.get_by_text("L'account di Paola Partecipante è bloccato")).to_be_visible()
    axe(page)
    page.goto("/gestione/registro/")
    expect(page.get_by_role("cell", name="Account bloccato")).to_be_visible()
    axe(page)
    db.session.expire_all()
    assert db.session.get(User, person.id).blocked_reason == "Messaggi offensivi ripetuti."
