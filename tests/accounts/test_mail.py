"""The shared e-mail sender (consulta.core.mail): absolute links, multipart messages,
and immediate e-mails written into the outbox in the caller's transaction (sent after commit
by the outbox sender, nothing written on rollback)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from consulta.core.mail import build_email, external_url, send_email_after_commit
from consulta.digests.models import OutboxEmail
from consulta.extensions import db


def outbox() -> list[OutboxEmail]:
    return list(db.session.execute(select(OutboxEmail).order_by(OutboxEmail.id)).scalars())


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


def test_queued_email_is_an_outbox_row_sent_after_commit(app, dummy_user, smtp_sink, deliver_outbox):
    send_email_after_commit("dummy@example.org", "Dopo il commit", "accounts/verify_email",
                            user=dummy_user, link="http://localhost/x", hours=1)
    [row] = outbox()
    assert (row.kind, row.status, row.template, row.recipient_id) == (
        "immediate", "pending", "accounts/verify_email", dummy_user.id)
    assert "http://localhost/x" in row.body_text and row.period_key is None
    assert smtp_sink.messages == []
    assert deliver_outbox().sent == 1
    [message] = smtp_sink.messages
    assert message["Subject"] == "Dopo il commit"
    assert "consulta.localhost" in message["From"]
    assert outbox()[0].status == "sent"
    assert deliver_outbox().sent == 0 and len(smtp_sink.messages) == 1


def test_queued_email_is_dropped_on_rollback(app, dummy_user, smtp_sink, deliver_outbox):
    dummy_user.display_name = "Cambiato"
    send_email_after_commit("dummy@example.org", "Mai inviata", "accounts/verify_email",
                            user=dummy_user, link="http://localhost/x", hours=1)
    db.session.rollback()
    assert outbox() == []
    assert deliver_outbox().sent == 0
    assert smtp_sink.messages == []


def test_a_rolled_back_request_writes_no_outbox_row(client, registration, deliver_outbox, smtp_sink, monkeypatch):
    """A registration that fails after the e-mail was queued (the password is refused by the
    operation, the view rolls back) leaves no row and sends nothing."""
    from consulta.accounts import operations

    original = operations.send_verification_email
    calls = []

    def queue_then_fail(user):
        original(user)
        calls.append(len(outbox()))
        raise operations.UnknownComune()

    monkeypatch.setattr(operations, "send_verification_email", queue_then_fail)
    response = client.post("/registrati", data=registration())
    assert response.status_code == 400 and calls == [1]   # the row existed inside the transaction
    assert outbox() == []
    assert deliver_outbox().sent == 0 and smtp_sink.messages == []


def test_an_unreachable_mail_server_loses_nothing_and_the_admin_sees_it(
        make_app, registration, smtp_sink, deliver_outbox, admin_user):
    from .helpers import users_count

    broken = make_app(MAIL_PORT=1, MAIL_MAX_ATTEMPTS=2, MAIL_RETRY_BASE_SECONDS=0)  # nothing listens there
    client = broken.test_client()
    response = client.post("/registrati", data=registration())
    assert response.status_code == 302   # the account exists
    assert users_count() == 2             # with the admin
    first = deliver_outbox(on=broken)
    assert (first.retry, first.sent) == (1, 0)
    [row] = outbox()
    assert row.status == "pending" and row.attempts == 1 and "non raggiungibile" in row.last_error
    second = deliver_outbox(on=broken)
    assert second.failed == 1
    [row] = outbox()
    assert row.status == "failed" and row.attempts == 2
    assert smtp_sink.messages == []
    # The admin sees it with the reason, and "send now" queues it again: then it leaves, once.
    admin = app_client_logged_in(broken, admin_user)
    page = admin.get("/gestione/posta/?stato=failed").get_data(as_text=True)
    assert "Conferma il tuo indirizzo e-mail" in page and "non raggiungibile" in page
    assert admin.post(f"/gestione/posta/{row.id}/invia").status_code == 302
    assert smtp_sink.messages == []                     # the request only queued it
    assert deliver_outbox().sent == 1
    assert deliver_outbox().sent == 0
    assert len(smtp_sink.messages) == 1 and outbox()[0].status == "sent"


def app_client_logged_in(app, user):
    client = app.test_client()
    client.login(user)
    return client
