"""The pages in a real browser: accessible (axe, WCAG 2.1 AA), usable by keyboard and at 390 px."""

from __future__ import annotations

import re

import pytest

from consulta.extensions import db

pytestmark = pytest.mark.browser


@pytest.fixture
def staged(app, create_user, create_tavolo, create_follow, create_proposal, create_comment):
    facilitator = create_user(email="fabia@example.org", display_name="Fabia Facilitatrice", role="facilitator")
    admin = create_user(email="admin@example.org", display_name="Ufficio di Piano", role="admin")
    paola = create_user(email="paola@example.org", display_name="Paola Partecipante")
    tavolo = create_tavolo(slug="anziani", title="Anziani e non autosufficienza", facilitators=[facilitator])
    create_follow(paola, tavolo=tavolo)
    proposal = create_proposal(tavolo, admin, title="Teleassistenza per chi vive solo")
    create_follow(paola, proposal=proposal)
    create_comment(proposal, facilitator, body="Ne parliamo giovedì.")
    return {"paola": paola, "admin": admin, "tavolo": tavolo, "proposal": proposal}


def test_notifications_page_by_keyboard_and_accessible(new_page, login_page, axe, staged):
    page = new_page()
    login_page(page, staged["paola"])
    page.goto("/notifiche/")
    axe(page)
    assert page.get_by_text("Hai 2 notifiche non lette.").is_visible()
    button = page.get_by_role("button", name="Segna tutte come lette")
    button.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_text("Hai letto tutte le notifiche.").is_visible()
    axe(page)

    narrow = new_page(width=390, height=844)
    login_page(narrow, staged["paola"])
    narrow.goto("/notifiche/")
    assert narrow.evaluate("document.documentElement.scrollWidth") <= 390
    axe(narrow)


def test_preferences_page_saves_by_keyboard(new_page, login_page, axe, staged):
    page = new_page(width=390, height=844)
    login_page(page, staged["paola"])
    page.goto("/notifiche/preferenze")
    axe(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_label("Giornaliero", exact=False).focus()  # Bootstrap Italia draws the radio on the label
    page.keyboard.press("Space")
    with page.expect_navigation():
        page.get_by_role("button", name="Salva le preferenze").press("Enter")
    assert page.get_by_text("Preferenze salvate.").is_visible()
    db.session.refresh(staged["paola"])
    assert staged["paola"].digest_frequency == "daily"
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile(r"Non seguire più\W+Anziani")).click()
    assert page.get_by_text("Non segui più questo tavolo").is_visible()
    axe(page)


def test_unsubscribe_page_works_without_login(new_page, axe, staged):
    from consulta.digests.tokens import make_unsubscribe_token

    page = new_page()
    page.goto(f"/disiscrizione/{make_unsubscribe_token(staged['paola'])}")
    axe(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Sì, non inviarmi più i riepiloghi").click()
    assert page.get_by_text("Non riceverai più i riepiloghi", exact=True).is_visible()
    axe(page)
    page.goto("/disiscrizione/non-valido")
    assert page.get_by_role("heading", name="Link di disiscrizione non valido").is_visible()
    axe(page)


def test_admin_outbox_is_accessible_wide_and_narrow(new_page, login_page, axe, staged, smtp_sink, deliver_outbox):
    for width in (1280, 390):
        page = new_page(width=width, height=900)
        login_page(page, staged["admin"])
        page.goto("/gestione/posta/")
        if width == 1280:
            page.get_by_label("E-mail del destinatario").fill("paola@example.org")
            with page.expect_navigation():
                page.get_by_role("button", name="Invia ora", exact=True).click()
            assert page.get_by_text("E-mail per paola@example.org messa in coda").is_visible()
            deliver_outbox()
            assert [str(m["To"]) for m in smtp_sink.messages] == ["paola@example.org"]
            page.reload()   # the row now says it was sent
        axe(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
