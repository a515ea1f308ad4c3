"""E-mail verification links: the good one, and every way a link can be bad."""

from __future__ import annotations

import pytest

from consulta.accounts import tokens
from consulta.extensions import db

from .helpers import audit_actions, link_in_mail, old_token, reload, tamper, text


@pytest.fixture
def newcomer(create_user):
    return create_user(email="nuova@example.org", display_name="Nora Nuova", verified=False)


def verify_path(user) -> str:
    return "/verifica-email/" + tokens.make_verify_email_token(user)


def test_opening_the_link_without_being_logged_in_verifies_and_asks_to_log_in(client, newcomer):
    response = client.get(verify_path(newcomer))
    assert response.status_code == 302
    assert response.headers["Location"] == "/accedi?next=/profilo/"
    assert "Indirizzo e-mail verificato" in text(client.get(response.headers["Location"]))
    user = reload(newcomer)
    assert user.is_verified and user.can_contribute
    assert audit_actions(user) == ["user.verify_email"]


def test_a_reused_link_gets_a_clear_page(client, newcomer):
    path = verify_path(newcomer)
    client.get(path)
    response = client.get(path)
    html = text(response)
    assert response.status_code == 400
    assert "Link già usato" in html and "risulta già verificato" in html
    assert 'href="/profilo/"' in html
    assert audit_actions(newcomer) == ["user.verify_email"]


def test_an_expired_link_is_refused_with_a_way_to_get_a_new_one(app, client, newcomer):
    age = app.config["EMAIL_VERIFY_MAX_AGE"] + 60
    token = old_token(app, tokens.Purpose.verify_email, {"u": newcomer.id, "e": newcomer.email}, age)
    response = client.get(f"/verifica-email/{token}")
    html = text(response)
    assert response.status_code == 400
    assert "Link scaduto" in html
    assert "Accedi per ricevere un nuovo link" in html
    assert not reload(newcomer).is_verified

    # Logged in, the page offers the button that sends a new link.
    client.login(newcomer)
    html = text(client.get(f"/verifica-email/{token}"))
    assert 'action="/profilo/verifica/invia"' in html and "Inviami un nuovo link" in html


def test_a_link_signed_a_moment_ago_still_works(app, client, newcomer):
    age = app.config["EMAIL_VERIFY_MAX_AGE"] - 60
    token = old_token(app, tokens.Purpose.verify_email, {"u": newcomer.id, "e": newcomer.email}, age)
    assert client.get(f"/verifica-email/{token}").status_code == 302
    assert reload(newcomer).is_verified


@pytest.mark.parametrize("make_bad_token", [
    pytest.param(lambda user: tamper(tokens.make_verify_email_token(user)), id="tampered"),
    pytest.param(lambda user: tokens.make_verify_email_token(user)[:-3], id="truncated"),
    pytest.param(lambda user: "non-un-token", id="garbage"),
    pytest.param(lambda user: tokens.make_reset_password_token(user), id="other-purpose"),
    pytest.param(lambda user: tokens.serializer(tokens.Purpose.verify_email).dumps({"u": "1"}), id="bad-payload"),
    pytest.param(lambda user: tokens.serializer(tokens.Purpose.verify_email).dumps(
        {"u": user.id + 100, "e": user.email}), id="unknown-user"),
])
def test_a_bad_link_is_refused_and_changes_nothing(client, newcomer, make_bad_token):
    response = client.get(f"/verifica-email/{make_bad_token(newcomer)}")
    assert response.status_code == 400
    assert "Link non valido" in text(response)
    assert not reload(newcomer).is_verified
    assert audit_actions(newcomer) == []


def test_a_link_for_an_old_address_verifies_nothing(client, newcomer):
    path = verify_path(newcomer)
    newcomer.email = "altra@example.org"
    db.session.commit()
    response = client.get(path)
    assert response.status_code == 400
    assert "Link non valido" in text(response)
    assert not reload(newcomer).is_verified


def test_resend_sends_a_new_link_that_works(deliver_outbox, client, newcomer, smtp_sink):
    client.login(newcomer)
    response = client.post("/profilo/verifica/invia")
    assert response.status_code == 302
    assert response.headers["Location"] == "/profilo/"
    assert "Ti stiamo inviando un nuovo link di verifica a nuova@example.org" in text(client.get("/profilo/"))
    deliver_outbox()
    path = link_in_mail(smtp_sink, "nuova@example.org", "/verifica-email/")
    client.get(path)
    assert reload(newcomer).is_verified
    assert "Verificato" in text(client.get("/profilo/"))


def test_resend_when_already_verified_sends_nothing(deliver_outbox, client, dummy_user, smtp_sink):
    client.login(dummy_user)
    client.post("/profilo/verifica/invia")
    assert "già verificato" in text(client.get("/profilo/"))
    deliver_outbox()
    assert smtp_sink.messages == []


def test_resend_needs_login_post_and_csrf(deliver_outbox, client, newcomer, smtp_sink):
    response = client.post("/profilo/verifica/invia")
    assert response.status_code == 302 and response.headers["Location"].startswith("/accedi")
    client.login(newcomer)
    assert client.get("/profilo/verifica/invia").status_code == 405
    assert client.post("/profilo/verifica/invia", csrf=False).status_code == 400
    deliver_outbox()
    assert smtp_sink.messages == []
