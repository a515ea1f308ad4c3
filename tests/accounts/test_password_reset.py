"""Forgotten password: a signed, expiring, single-use link that reveals nothing."""

from __future__ import annotations

import pytest

from consulta.accounts import tokens
from consulta.extensions import db

from .helpers import (
    DEFAULT_PASSWORD,
    NEW_PASSWORD,
    audit_actions,
    link_in_mail,
    old_token,
    reload,
    tamper,
    text,
    without_csrf,
)


def ask_for_reset(client, email):
    response = client.post("/password/dimenticata", data={"email": email})
    assert response.status_code == 302
    assert response.headers["Location"] == "/password/dimenticata"
    return text(client.get("/password/dimenticata"))


def test_a_person_resets_the_password_through_the_emailed_link(deliver_outbox, client, dummy_user, smtp_sink):
    page = ask_for_reset(client, "Dummy@Example.org")
    assert "Se l'indirizzo è registrato, riceverai a breve un'e-mail" in page

    deliver_outbox()
    path = link_in_mail(smtp_sink, "dummy@example.org", "/password/nuova/")
    message = smtp_sink.to("dummy@example.org")[0]
    assert message["Subject"] == "Scegli una nuova password"
    assert "60 minuti" in smtp_sink.text_of(message)

    form = text(client.get(path))
    assert "Scegli una nuova password" in form and "dummy@example.org" in form
    response = client.post(path, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/accedi"
    assert "Password aggiornata" in text(client.get("/accedi"))

    user = reload(dummy_user)
    assert user.check_password(NEW_PASSWORD) and not user.check_password(DEFAULT_PASSWORD)
    assert audit_actions(user) == ["user.password_reset"]
    assert client.post("/accedi", data={"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 400
    client.login(user, password=NEW_PASSWORD)

    deliver_outbox()
    smtp_sink.wait_for(2)
    notice = smtp_sink.to("dummy@example.org")[-1]
    assert notice["Subject"] == "La tua password è stata cambiata"


def test_the_answer_is_the_same_for_an_unknown_address_and_no_mail_is_sent(deliver_outbox, client, dummy_user, smtp_sink):
    unknown_page = ask_for_reset(client, "nessuno@example.org")
    deliver_outbox()
    assert smtp_sink.messages == []
    known_page = ask_for_reset(client, dummy_user.email)
    assert without_csrf(unknown_page) == without_csrf(known_page)
    deliver_outbox()
    smtp_sink.wait_for(1)
    assert len(smtp_sink.messages) == 1


@pytest.mark.parametrize("email, message", [
    ("non-una-email", "Questo non sembra un indirizzo e-mail valido"),
    ("", "Indica il tuo indirizzo e-mail."),
    ("a" * 260 + "@example.org", "L'indirizzo e-mail può avere al massimo 254 caratteri."),
])
def test_a_malformed_address_is_refused(deliver_outbox, client, email, message, smtp_sink):
    response = client.post("/password/dimenticata", data={"email": email})
    assert response.status_code == 400
    assert message in text(response)
    deliver_outbox()
    assert smtp_sink.messages == []


def test_forgot_password_without_csrf_is_refused(deliver_outbox, client, dummy_user, smtp_sink):
    assert client.post("/password/dimenticata", data={"email": dummy_user.email}, csrf=False).status_code == 400
    deliver_outbox()
    assert smtp_sink.messages == []


def test_the_link_works_only_once(client, dummy_user):
    path = "/password/nuova/" + tokens.make_reset_password_token(dummy_user)
    client.post(path, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    for response in (client.get(path),
                     client.post(path, data={"password": "Terza-password-lunga-3", "password_confirm": "Terza-password-lunga-3"})):
        html = text(response)
        assert response.status_code == 400
        assert "Link già usato" in html and "vale una sola volta" in html
        assert 'href="/password/dimenticata"' in html and "Richiedi un nuovo link" in html
    assert reload(dummy_user).check_password(NEW_PASSWORD)


def test_an_expired_link_is_refused(app, client, dummy_user):
    from consulta.accounts.tokens import password_fingerprint

    payload = {"u": dummy_user.id, "e": dummy_user.email, "h": password_fingerprint(dummy_user)}
    token = old_token(app, tokens.Purpose.reset_password, payload, app.config["PASSWORD_RESET_MAX_AGE"] + 1)
    response = client.post(f"/password/nuova/{token}", data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert response.status_code == 400
    assert "Link scaduto" in text(response)
    assert reload(dummy_user).check_password(DEFAULT_PASSWORD)


@pytest.mark.parametrize("make_bad_token", [
    pytest.param(lambda user: tamper(tokens.make_reset_password_token(user)), id="tampered"),
    pytest.param(lambda user: "x" * 40, id="garbage"),
    pytest.param(lambda user: tokens.make_verify_email_token(user), id="other-purpose"),
])
def test_a_bad_link_is_refused(client, dummy_user, make_bad_token):
    path = f"/password/nuova/{make_bad_token(dummy_user)}"
    assert client.get(path).status_code == 400
    response = client.post(path, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert response.status_code == 400
    assert "Link non valido" in text(response)
    assert reload(dummy_user).check_password(DEFAULT_PASSWORD)
    assert audit_actions(dummy_user) == []


def test_the_link_dies_when_the_password_is_changed_another_way(client, dummy_user):
    path = "/password/nuova/" + tokens.make_reset_password_token(dummy_user)
    dummy_user.set_password("Cambiata-dal-profilo-1")
    db.session.commit()
    assert client.get(path).status_code == 400


def test_the_link_dies_when_the_address_changes(client, dummy_user):
    path = "/password/nuova/" + tokens.make_reset_password_token(dummy_user)
    dummy_user.email = "nuovo.indirizzo@example.org"
    db.session.commit()
    response = client.get(path)
    assert response.status_code == 400
    assert "Link non valido" in text(response)


@pytest.mark.parametrize("password, confirm, message", [
    ("corta", "corta", "La password deve avere almeno 10 caratteri."),
    ("qwertyuiop", "qwertyuiop", "tra le più usate"),
    ("dummy-dummy-2025", "dummy-dummy-2025", "La password non deve contenere il tuo indirizzo e-mail."),
    (NEW_PASSWORD, "Diversa-dalla-prima-1", "Le due password non coincidono."),
    ("p" * 201, "p" * 201, "La password può avere al massimo 200 caratteri."),
])
def test_a_bad_new_password_is_refused_and_the_link_stays_usable(client, dummy_user, password, confirm, message):
    path = "/password/nuova/" + tokens.make_reset_password_token(dummy_user)
    response = client.post(path, data={"password": password, "password_confirm": confirm})
    assert response.status_code == 400
    assert message in text(response)
    assert reload(dummy_user).check_password(DEFAULT_PASSWORD)
    assert client.post(path, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}).status_code == 302


def test_resetting_ends_every_open_session(client, second_client, dummy_user):
    client.login(dummy_user)
    path = "/password/nuova/" + tokens.make_reset_password_token(dummy_user)
    second_client.post(path, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    response = client.get("/profilo/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/accedi")


def test_resetting_while_logged_in_logs_out(client, dummy_user):
    client.login(dummy_user)
    path = "/password/nuova/" + tokens.make_reset_password_token(dummy_user)
    client.post(path, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert client.get("/profilo/").status_code == 302


def test_resetting_also_verifies_the_address(client, create_user):
    user = create_user(email="nuova@example.org", verified=False)
    path = "/password/nuova/" + tokens.make_reset_password_token(user)
    client.post(path, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert reload(user).is_verified


def test_missing_csrf_on_the_new_password_form_is_refused(client, dummy_user):
    path = "/password/nuova/" + tokens.make_reset_password_token(dummy_user)
    response = client.post(path, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}, csrf=False)
    assert response.status_code == 400
    assert reload(dummy_user).check_password(DEFAULT_PASSWORD)
