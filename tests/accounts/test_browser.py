"""In a real browser: a person registers, verifies the address from the e-mail, logs out and in.
The account pages have no WCAG 2.1 A/AA violations and fit a 390 px screen."""

from __future__ import annotations

import pytest

from consulta.accounts import tokens
from consulta.accounts.models import User
from consulta.extensions import db
from tests.conftest import form_login

from .helpers import DEFAULT_PASSWORD, path_of

pytestmark = pytest.mark.browser


def test_a_person_registers_verifies_logs_in_and_out(page, axe, ambito, smtp_sink, deliver_outbox):
    page.goto("/")
    page.get_by_role("link", name="Registrati per partecipare").click()
    assert page.locator("h1").inner_text() == "Registrati"
    axe(page)

    page.get_by_label("Nome e cognome").fill("Marta Conti")
    page.get_by_label("Comune di residenza").select_option(label="Amelia")
    # Bootstrap Italia draws its own radios and checkboxes: people click the labels.
    page.locator("label[for=registered_as-1]").click()
    page.get_by_role("textbox", name="E-mail", exact=True).fill("marta.conti@example.org")
    page.locator("#password").fill(DEFAULT_PASSWORD)
    page.get_by_label("Ripeti la password").fill(DEFAULT_PASSWORD)
    page.locator("label[for=digest_frequency-1]").click()
    page.locator("label[for=privacy]").click()
    assert page.get_by_label("Ho letto l'informativa").is_checked()
    page.get_by_role("button", name="Registrati").click()

    # The same answer whether or not the address had an account: the e-mail tells the rest.
    page.wait_for_url(lambda url: path_of(url) == "/accedi")
    assert "Ti stiamo inviando un'e-mail a marta.conti@example.org" in page.locator(".flash-messages").inner_text()
    axe(page)

    deliver_outbox()
    smtp_sink.wait_for(1)
    message = smtp_sink.to("marta.conti@example.org")[0]
    link = [url for url in smtp_sink.links_in(message) if "/verifica-email/" in url][0]
    page.goto(link)
    page.wait_for_url(lambda url: path_of(url).startswith("/accedi?next="))
    assert "Indirizzo e-mail verificato" in page.locator(".flash-messages").inner_text()
    page.locator("#email").fill("marta.conti@example.org")
    page.locator("#password").fill(DEFAULT_PASSWORD)
    page.locator("main form [type=submit]").first.click()
    page.wait_for_url("**/profilo/")
    assert "Bentornato/a, Marta Conti." in page.locator(".flash-messages").inner_text()
    assert page.locator(".profile-data").get_by_text("Verificato", exact=True).is_visible()
    assert page.locator(".profile-name").inner_text() == "Marta Conti"

    page.get_by_role("button", name="Esci").click()
    page.wait_for_url(lambda url: path_of(url) == "/")
    assert page.get_by_role("link", name="Accedi").first.is_visible()

    user = db.session.execute(db.select(User).where(User.email == "marta.conti@example.org")).scalar_one()
    form_login(page, user)
    assert "Bentornato/a, Marta Conti." in page.locator(".flash-messages").inner_text()
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.is_verified and user.registered_as == "representative" and user.digest_frequency == "daily"


def test_a_failed_registration_keeps_the_input_and_points_at_the_errors(page, axe, ambito):
    page.goto("/registrati")
    page.get_by_label("Nome e cognome").fill("Marta Conti")
    page.get_by_role("textbox", name="E-mail", exact=True).fill("marta.conti@example")
    page.locator("#password").fill("corta")
    page.get_by_role("button", name="Registrati").click()
    assert page.locator("#form-errors").is_visible()
    assert page.get_by_label("Nome e cognome").input_value() == "Marta Conti"
    assert page.locator("#password-error").inner_text() == "La password deve avere almeno 10 caratteri."
    assert page.locator("#password").get_attribute("aria-invalid") == "true"
    axe(page)


@pytest.mark.parametrize("width", [1280, 390])
def test_account_pages_are_accessible(new_page, axe, login_page, ambito, create_user, width):
    user = create_user(email="anna@example.org", display_name="Anna Bianchi", verified=False)
    browser_page = new_page(width=width, height=900)
    token = tokens.make_reset_password_token(user)
    anonymous_pages = ["/registrati", "/accedi", "/password/dimenticata", f"/password/nuova/{token}", "/privacy",
                       "/verifica-email/non-valido"]
    for path in anonymous_pages:
        browser_page.goto(path)
        _fits(browser_page, width)
        axe(browser_page)
    login_page(browser_page, user)
    for path in ["/profilo/", "/profilo/password", "/profilo/email"]:
        browser_page.goto(path)
        _fits(browser_page, width)
        axe(browser_page)


def _fits(browser_page, width):
    scroll_width = browser_page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{browser_page.url} scrolls sideways: {scroll_width}px"


def test_login_works_by_keyboard_alone(page, create_user):
    user = create_user(email="tastiera@example.org", display_name="Tea Tastiera")
    page.goto("/accedi")
    page.get_by_label("E-mail").focus()
    page.keyboard.type(user.email)
    page.keyboard.press("Tab")
    page.keyboard.type(DEFAULT_PASSWORD)
    page.keyboard.press("Tab")
    page.keyboard.press("Space")       # Ricordami
    assert page.get_by_label("Ricordami").is_checked()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")       # Accedi
    page.wait_for_url(lambda url: path_of(url) == "/")
    assert "Bentornato/a, Tea Tastiera." in page.locator(".flash-messages").inner_text()
