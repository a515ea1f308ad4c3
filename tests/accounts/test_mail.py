"""The shared e-mail sender (consulta.core.mail): absolute links, multipart messages,
and immediate e-mails that leave only after the commit."""

from __future__ import annotations

import pytest

from consulta.core.mail import (
    build_email,
    external_url,
    pending_emails,
    send_email,
    send_email_after_commit,
)
from consulta.extensions import db


def test_external_url_uses_the_public_base_url_outside_a_request(app, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://consulta.ats11.example/")
    assert external_url("accounts.verify_email", token="abc") == "https://consulta.ats11.example/verifica-email/abc"
    assert external_url("accounts.profile", _anchor="dati") == "https://consulta.ats11.example/profilo/#dati"


def test_external_url_keeps_a_path_prefix_and_ignores_the_request_host(app, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://www.comune.narni.tr.it/consulta")
    with app.test_request_context("/", base_url="http://attacker.example"):
        assert external_url("accounts.reset_password", token="t") == (
            "https://www.comune.narni.tr.it/consulta/password/nuova/t")


def test_a_message_has_a_text_and_an_html_part(app, dummy_user):
    message = build_email("dummy@example.org", "Oggetto", "accounts/verify_email",
                          user=dummy_user, link="http://localhost/verifica-email/x", hours=72)
    assert message.recipients == ["dummy@example.org"]
    assert "http://localhost/verifica-email/x" in message.body
    assert 'href="http://localhost/verifica-email/x"' in message.html
    assert "Ciao Dora Dummy" in message.body


def test_html_part_escapes_user_text_and_follows_the_recipient_language(app, create_user):
    user = create_user(display_name="<b>Eva</b>")
    message = build_email(user.email, "Oggetto", "accounts/verify_email", locale="en",
                          user=user, link="http://localhost/x", hours=1)
    assert "&lt;b&gt;Eva&lt;/b&gt;" in message.html and "<b>Eva</b>" not in message.html
    assert '<html lang="en">' in message.html


def test_a_template_name_must_say_its_domain(app):
    with pytest.raises(ValueError):
        build_email("a@example.org", "x", "verify_email")


def test_send_email_goes_through_smtp(app, dummy_user, smtp_sink):
    assert send_email("dummy@example.org", "Prova", "accounts/verify_email",
                      user=dummy_user, link="http://localhost/x", hours=1)
    message = smtp_sink.wait_for(1)[0]
    assert message["Subject"] == "Prova"
    assert "consulta.localhost" in message["From"]


def test_queued_email_leaves_only_after_commit(app, dummy_user, smtp_sink):
    send_email_after_commit("dummy@example.org", "Dopo il commit", "accounts/verify_email",
                            user=dummy_user, link="http://localhost/x", hours=1)
    assert len(pending_emails()) == 1
    assert smtp_sink.messages == []
    db.session.commit()
    assert pending_emails() == []
    assert smtp_sink.wait_for(1)[0]["Subject"] == "Dopo il commit"


def test_queued_email_is_dropped_on_rollback(app, dummy_user, smtp_sink):
    dummy_user.display_name = "Cambiato"
    send_email_after_commit("dummy@example.org", "Mai inviata", "accounts/verify_email",
                            user=dummy_user, link="http://localhost/x", hours=1)
    db.session.rollback()
    assert pending_emails() == []
    db.session.commit()
    assert smtp_sink.messages == []


def test_an_unreachable_mail_server_does_not_break_the_request(make_app, registration, smtp_sink):
    from .helpers import users_count

    broken = make_app(MAIL_PORT=1)  # nothing listens there
    client = broken.test_client()
    response = client.post("/registrati", data=registration())
    assert response.status_code == 302   # the account exists; the person can ask for a new link
    assert users_count() == 1
    assert smtp_sink.messages == []
