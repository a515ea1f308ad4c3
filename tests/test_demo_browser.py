"""In a real browser, on the demo database that `make run` serves: from the home page a visitor walks
plan action → the proposal it came from → its votes by category → the minutes decision, whose SHA-256
the page verifies, in at most three clicks. Every page on the way passes axe-core."""

from __future__ import annotations

import re

import pytest

from consulta.extensions import db

pytestmark = pytest.mark.browser


def test_from_the_home_page_to_a_verified_minutes_decision_in_three_clicks(demo, new_page, axe):
    pg = new_page()
    clicks = 0

    pg.goto("/")
    axe(pg)

    # Click 1: the plan, from the home page.
    pg.get_by_role("link", name="Il piano", exact=True).click()
    clicks += 1
    pg.wait_for_url(re.compile(r"/piano/\d+/$"))
    axe(pg)
    action = pg.locator("article.plan-action").filter(has=pg.locator(".plan-action-source")).first
    action_title = action.locator("h4").inner_text()
    source = action.locator(".plan-action-source")
    assert source.is_visible()
    proposal_title = source.locator("a[href*='/proposte/']").first.inner_text().strip("«»")
    # The hash the plan's origin panel states for the decision behind the action.
    stated_hash = action.locator(".plan-hash").first.text_content().strip()
    assert re.fullmatch(r"[0-9a-f]{64}", stated_hash)

    # Click 2: the proposal the action came from.
    source.locator("a[href*='/proposte/']").first.click()
    clicks += 1
    pg.wait_for_url(re.compile(r"/proposte/\d+/$"))
    assert pg.locator("h1").inner_text() == proposal_title
    axe(pg)
    # Its votes by category: the chart, and the table behind it for screen readers.
    assert pg.get_by_role("heading", name="Chi sostiene che cosa").is_visible()
    assert pg.locator("#voti .vote-chart").is_visible()
    tally = pg.locator("#voti table.vote-table")
    assert "Voti per categoria di portatori di interesse" in tally.locator("caption").text_content()
    assert tally.locator("tbody tr").count() >= 3
    # The decision of the tavolo, with the minutes it was taken in.
    decision = pg.locator(".proposal-decision")
    assert decision.is_visible() and "Accolta" in decision.inner_text()

    # Click 3: the minutes.
    decision.get_by_role("link", name=re.compile(r"Leggi il verbale n\. \d+")).click()
    clicks += 1
    pg.wait_for_url(re.compile(r"/verbali/\d+/$"))
    axe(pg)
    decided = pg.locator(".decision-item").filter(has_text=proposal_title)
    assert decided.count() == 1 and decided.is_visible()
    assert "Accolta" in decided.inner_text()
    assert pg.locator(".hash-value code").inner_text().strip() == stated_hash
    verified = pg.locator(".hash-intact")
    assert verified.is_visible() and "Impronta verificata" in verified.inner_text()

    assert clicks <= 3, f"{clicks} clicks from the home page to the minutes of «{action_title}»"


FOR_VISITORS = {"/accedi", "/registrati", "/password/dimenticata"}  # the logged-in are sent elsewhere


@pytest.mark.parametrize("width", [1280, 390])
def test_every_page_of_the_demo_passes_axe(demo, new_page, login_page, axe, width):
    """Every demo page at desktop and phone width, as the Ufficio di Piano sees it (every control a role
    may have; the Nu Html Checker test reads every role's version), and as a visitor where the office
    is sent elsewhere (login, registration): no WCAG 2.1 A/AA violation, no sideways scrolling."""
    from sqlalchemy import select

    from consulta.accounts.models import User
    from consulta.demo import DEMO_PASSWORD
    from tests.test_markup import demo_pages

    admin = db.session.execute(select(User).where(User.email == "admin@consulta.example")).scalar_one()
    office, visitor = new_page(width=width, height=900), new_page(width=width, height=900)
    login_page(office, admin, DEMO_PASSWORD)
    for path in demo_pages():
        pg = visitor if path in FOR_VISITORS else office
        response = pg.goto(path)
        assert response is not None and response.status == 200, path
        axe(pg)
        scroll_width = pg.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width, f"{path} scrolls sideways at {width}px: {scroll_width}px"
