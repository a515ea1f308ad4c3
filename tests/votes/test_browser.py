"""In a real browser: a citizen comments with a stance and votes on a proposal; the tally shows it."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_citizen_comments_with_a_stance_votes_and_sees_the_tally(
        page, new_page, login_page, axe, cast, tavolo, create_proposal, create_user, create_organisation):
    proposal = create_proposal(tavolo, cast.representative, organisation=cast.organisation,
                               title="Un centro diurno per anziani a Narni")
    # The organisation's representative has voted already, from another browser.
    representative = new_page()
    login_page(representative, cast.representative)
    representative.goto(f"/proposte/{proposal.id}/")
    representative.locator("#voti").get_by_role("button", name="Favorevole").click()
    representative.wait_for_load_state()
    assert "Voto registrato: Favorevole." in representative.locator(".flash-messages").inner_text()

    login_page(page, cast.participant)
    page.goto(f"/proposte/{proposal.id}/")
    axe(page)
    thread = page.locator("#commenti")
    thread.get_by_label("Il tuo commento").fill("Serve anche il **trasporto** da Otricoli 🚐.")
    stance = thread.get_by_role("group", name="La tua posizione (facoltativa)")
    stance.locator("label", has_text="A favore").click()  # Bootstrap Italia styles the label, not the input
    assert stance.get_by_label("A favore").is_checked()
    thread.get_by_role("button", name="Pubblica il commento").click()
    page.wait_for_load_state()

    assert "Commento pubblicato." in page.locator(".flash-messages").inner_text()
    comment = page.locator("#commenti article.comment").first
    assert "Serve anche il trasporto da Otricoli 🚐." in comment.inner_text()
    assert comment.locator("strong").inner_text() == "trasporto"
    assert "A favore" in comment.inner_text() and "Cittadino/a" in comment.inner_text()
    assert "1 a favore" in page.locator(".comment-stances").inner_text()

    panel = page.locator("#voti")
    panel.get_by_role("button", name="Contrario").click()
    page.wait_for_load_state()
    panel = page.locator("#voti")
    assert "Voto attuale: Contrario." in panel.inner_text()
    panel.get_by_role("button", name="Favorevole").click()
    page.wait_for_load_state()
    panel = page.locator("#voti")
    assert "Voto attuale: Favorevole." in panel.inner_text()
    assert "2 voti" in panel.locator(".vote-totals").inner_text()
    # The tally by category shows both: the cooperative's vote and the citizen's.
    chart = panel.get_by_role("img", name="Voti per categoria di portatori di interesse")
    assert chart.is_visible()
    table = panel.locator("table.vote-table")
    assert table.locator("tr", has_text="Cooperativa sociale").locator("td").all_inner_texts() == ["1", "0", "0", "1"]
    assert table.locator("tr", has_text="Cittadino/a").locator("td").all_inner_texts() == ["1", "0", "0", "1"]
    axe(page)

    # A reply, by keyboard, through the disclosure under the comment.
    page.locator("#commenti details.comment-reply-form summary").first.focus()
    page.keyboard.press("Enter")
    page.locator("#commenti details.comment-reply-form textarea").first.fill("Anche da Calvi.")
    page.locator("#commenti details.comment-reply-form").first.get_by_role(
        "button", name="Pubblica la risposta").click()
    page.wait_for_load_state()
    assert "Anche da Calvi." in page.locator("#commenti .comment-replies").inner_text()


def test_thread_and_panel_fit_a_narrow_screen(new_page, login_page, axe, cast, tavolo, create_proposal,
                                              create_comment, create_vote):
    proposal = create_proposal(tavolo, cast.representative, organisation=cast.organisation)
    create_comment(proposal, cast.representative, body="La cooperativa Il Ponte è disponibile.", stance="in_favour")
    create_vote(proposal, cast.representative, "for")
    create_vote(proposal, cast.admin, "against")
    phone = new_page(width=390, height=844)
    login_page(phone, cast.participant)
    phone.goto(f"/proposte/{proposal.id}/")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    box = phone.locator("#voti svg.tally-chart").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    axe(phone)
