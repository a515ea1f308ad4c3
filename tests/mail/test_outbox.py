"""Every e-mail goes through the outbox: a request writes a row in its own transaction and never
talks to SMTP; the sender (`flask send-mail`) delivers each row exactly once, with a timeout,
retries and a record of what failed."""

from __future__ import annotations

import html
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from consulta.core.db import utcnow
from consulta.core.mail import send_email_after_commit
from consulta.digests.models import OutboxEmail
from consulta.extensions import db
from tests.conftest import ROOT, SMTPSink, free_port
from tests.digests.conftest import SlowSink, command_env
from tests.meetings.test_meetings import meeting_data


def rows() -> list[OutboxEmail]:
    db.session.expire_all()
    return list(db.session.execute(select(OutboxEmail).order_by(OutboxEmail.id)).scalars())


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def registered():
    """The person the registration form created (it does not log in: see tests/accounts/test_register.py)."""
    from consulta.accounts.models import User

    return db.session.execute(select(User).where(User.email == "giulia.ferri@example.org")).scalar_one()


def delivered(sink: SMTPSink) -> list[tuple[str, str]]:
    return sorted((str(m["To"]), str(m["Subject"])) for m in sink.messages)


def test_pages_answer_at_once_while_smtp_hangs_and_each_mail_leaves_once_it_answers(
        make_app, silent_smtp, registration, create_user, create_tavolo, create_seat, create_meeting,
        deliver_outbox, smtp_sink):
    """The measured failure: an SMTP server that accepts and never answers held the request (and the
    gunicorn worker) until the connection died. Now no page waits for SMTP, and the mail leaves later."""
    hanging = make_app(MAIL_PORT=silent_smtp.port, SMTP_TIMEOUT=0.5, DIGEST_SMTP_GIVE_UP_AFTER=1,
                       MAIL_RETRY_BASE_SECONDS=0)
    facilitator = create_user(email="fabio@example.org", display_name="Fabio", role="facilitator")
    tavolo = create_tavolo(slug="anziani", title="Anziani", facilitators=[facilitator])
    seat = create_seat(tavolo)
    to_cancel = create_meeting(tavolo, title="Incontro da annullare")
    create_user(email="lucia@example.org", display_name="Lucia")

    timings: dict[str, float] = {}

    def timed(name, call):
        start = time.monotonic()
        response = call()
        timings[name] = time.monotonic() - start
        assert response.status_code in (302, 303), (name, response.status_code)

    newcomer = hanging.test_client()
    timed("registrazione", lambda: newcomer.post("/registrati", data=registration()))
    newcomer.login(registered())  # registering does not log in: the person logs in, unverified
    timed("nuovo link di verifica", lambda: newcomer.post("/profilo/verifica/invia"))
    timed("password dimenticata", lambda: hanging.test_client().post(
        "/password/dimenticata", data={"email": "lucia@example.org"}))
    convener = hanging.test_client()
    convener.login(facilitator)
    timed("convocazione", lambda: convener.post(f"/facilitazione/tavoli/{tavolo.slug}/incontri/nuovo",
                                                data=meeting_data()))
    timed("annullamento", lambda: convener.post(f"/facilitazione/incontri/{to_cancel.id}/annulla",
                                                data={"reason": "Sala non disponibile"}))
    assert {name: seconds for name, seconds in timings.items() if seconds >= 2} == {}
    assert silent_smtp.accepted == 0, "a request talked to SMTP"

    # Nothing lost: one outbox row per e-mail, waiting.
    queued = rows()
    assert sorted(row.template for row in queued) == [
        "accounts/reset_password", "accounts/verify_email", "accounts/verify_email",
        "meetings/cancellation", "meetings/convocation"]
    assert {row.status for row in queued} == {"pending"} and smtp_sink.messages == []

    # The sender meets the silent server: it gives up after SMTP_TIMEOUT, keeps everything for later.
    start = time.monotonic()
    summary = deliver_outbox(on=hanging)
    assert time.monotonic() - start < 3
    assert (summary.sent, summary.retry, summary.postponed) == (0, 1, 4) and summary.smtp_unreachable
    waiting = rows()
    assert {row.status for row in waiting} == {"pending"}
    [tried] = [row for row in waiting if row.attempts]
    assert "non raggiungibile" in tried.last_error and "timed out" in tried.last_error

    # The server answers again: every e-mail leaves, exactly once.
    assert deliver_outbox().sent == 5
    assert deliver_outbox().sent == 0
    assert delivered(smtp_sink) == sorted([
        ("giulia.ferri@example.org", "Conferma il tuo indirizzo e-mail"),
        ("giulia.ferri@example.org", "Conferma il tuo indirizzo e-mail"),
        ("lucia@example.org", "Scegli una nuova password"),
        (seat.delegate.email, "Convocazione: Anziani – Primo incontro di concertazione"),
        (seat.delegate.email, "Incontro annullato: Anziani – Incontro da annullare"),
    ])
    assert len({m["Message-ID"] for m in smtp_sink.messages}) == 5
    assert {row.status for row in rows()} == {"sent"}


def test_the_profile_says_when_the_verification_mail_could_not_leave_and_offers_to_resend(
        make_app, registration, deliver_outbox, smtp_sink):
    down = make_app(MAIL_PORT=free_port(), MAIL_MAX_ATTEMPTS=1)  # nothing listens there
    person = down.test_client()
    after = person.post("/registrati", data=registration(), follow_redirects=True)
    page = text(after)
    # Honest: queued, not yet sent.
    assert "Ti stiamo inviando un'e-mail a giulia.ferri@example.org" in page
    assert "Ti abbiamo inviato" not in page
    person.login(registered())
    assert "L'e-mail di verifica è in invio." in text(person.get("/profilo/"))

    assert deliver_outbox(on=down).failed == 1
    page = text(person.get("/profilo/"))
    assert "Non siamo riusciti a inviarti l'e-mail di verifica" in page
    assert 'action="/profilo/verifica/invia"' in page
    assert person.post("/profilo/verifica/invia", csrf=False).status_code == 400   # CSRF-protected

    answer = person.post("/profilo/verifica/invia", follow_redirects=True)
    page = text(answer)
    assert "Ti stiamo inviando un nuovo link di verifica" in page
    assert "Non siamo riusciti" not in page and "L'e-mail di verifica è in invio." in page
    assert [row.status for row in rows()] == ["failed", "pending"]

    assert deliver_outbox().sent == 1
    [message] = smtp_sink.messages
    link = next(url for url in smtp_sink.links_in(message) if "/verifica-email/" in url)
    person.get(link.removeprefix("http://localhost"))
    assert "Verificato" in text(person.get("/profilo/"))


def test_a_permanent_refusal_fails_at_once_and_a_temporary_one_is_retried_later(
        app, make_app, start_sink, dummy_user, deliver_outbox):
    from tests.digests.conftest import RefusingSink

    busy = start_sink(RefusingSink(code=451))
    send_email_after_commit("dummy@example.org", "Prova", "accounts/verify_email", user=dummy_user,
                            link="http://localhost/x", hours=1)
    assert deliver_outbox(on=make_app(MAIL_PORT=busy.port)).retry == 1
    [row] = rows()
    assert row.status == "pending" and row.attempts == 1 and "451" in row.last_error
    assert row.next_attempt_at > utcnow() + timedelta(seconds=20)   # backoff: MAIL_RETRY_BASE_SECONDS
    assert deliver_outbox().sent == 0                               # not due yet

    refusing = start_sink(RefusingSink(code=550))
    db.session.execute(update(OutboxEmail).values(next_attempt_at=utcnow()))
    assert deliver_outbox(on=make_app(MAIL_PORT=refusing.port)).failed == 1
    [row] = rows()
    assert row.status == "failed" and "550" in row.last_error and row.attempts == 2


def test_an_interrupted_immediate_mail_is_reported_not_resent(app, dummy_user, deliver_outbox, smtp_sink):
    """The same at-most-once rule as the digests: a row left `sending` (the sender died between the
    end of the message and the commit) is marked failed for a human to decide, never sent twice."""
    send_email_after_commit("dummy@example.org", "Prova", "accounts/verify_email", user=dummy_user,
                            link="http://localhost/x", hours=1)
    db.session.execute(update(OutboxEmail).values(status="sending", claimed_by="altro:1",
                                                  claimed_at=utcnow() - timedelta(hours=1)))
    summary = deliver_outbox()
    assert (summary.sent, summary.failed) == (0, 1)
    [row] = rows()
    assert row.status == "failed" and "Invio interrotto" in row.last_error
    assert smtp_sink.messages == []


# --------------------------------------------------------------------------- processes

def start_sender(env: dict[str, str], *args: str) -> subprocess.Popen:
    flask = os.path.join(os.path.dirname(sys.executable), "flask")
    return subprocess.Popen([flask, "--app", "consulta", "send-mail", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.committing
def test_two_senders_on_postgresql_deliver_each_mail_exactly_once(app, backend, start_sink, create_user):
    if backend != "postgresql":
        pytest.skip("parallel senders claim with SKIP LOCKED, a PostgreSQL feature; on SQLite run one")
    person = create_user(email="modello@example.org", verified=False)
    for n in range(60):  # 60 addresses (hashing 60 passwords would only slow the test down)
        send_email_after_commit(f"m{n:03d}@example.org", "Conferma il tuo indirizzo e-mail", "accounts/verify_email",
                                user=person, link="http://localhost/verifica-email/x", hours=72)
    db.session.commit()
    db.session.remove()
    sink = start_sink(SlowSink(delay=0.005))
    env = command_env(app, sink)

    senders = [start_sender(env), start_sender(env)]
    outputs = [sender.communicate(timeout=120) for sender in senders]
    for sender, (out, err) in zip(senders, outputs, strict=True):
        assert sender.returncode == 0, out + err
    addresses = [str(m["To"]) for m in sink.messages]
    assert len(addresses) == 60 and len(set(addresses)) == 60
    sent_by = [int(out.split("E-mail inviate: ")[1].split(" ")[0]) for out, _err in outputs]
    assert sum(sent_by) == 60 and all(n > 0 for n in sent_by), sent_by
    assert {row.status for row in rows()} == {"sent"}


@pytest.mark.committing
def test_the_sender_loop_delivers_what_requests_queue_and_stops_on_sigterm(app, client, registration,
                                                                           start_sink):
    sink = start_sink(SMTPSink())
    loop = start_sender(command_env(app, sink), "--loop", "--interval", "0.2")
    try:
        assert client.post("/registrati", data=registration()).status_code == 302
        [message] = sink.wait_for(1, timeout=15)
        assert message["To"] == "giulia.ferri@example.org"
        client.login(registered())
        assert client.post("/profilo/verifica/invia").status_code == 302
        sink.wait_for(2, timeout=15)
    finally:
        loop.send_signal(signal.SIGTERM)
        out, err = loop.communicate(timeout=10)
    assert loop.returncode == 0, out + err
    assert len(sink.messages) == 2
    assert {row.status for row in rows()} == {"sent"}


@pytest.mark.committing
def test_a_sender_killed_midway_loses_nothing_and_the_next_one_doubles_nothing(app, backend, start_sink,
                                                                              create_user):
    if backend != "postgresql":
        # Two process starts cost seconds; the delivery steps are the digests' (test_faults.py runs this on both).
        pytest.skip("one backend is enough for the process-level kill")
    person = create_user(email="modello@example.org", verified=False)
    expected = [f"k{n:02d}@example.org" for n in range(16)]
    for address in expected:
        send_email_after_commit(address, "Conferma il tuo indirizzo e-mail", "accounts/verify_email",
                                user=person, link="http://localhost/verifica-email/x", hours=72)
    db.session.commit()
    db.session.remove()
    slow = start_sink(SlowSink(delay=0.05))
    env = command_env(app, slow)

    sender = start_sender(env)
    slow.wait_for(4, timeout=60)
    os.kill(sender.pid, signal.SIGKILL)
    sender.communicate(timeout=10)
    assert sender.returncode == -signal.SIGKILL
    assert len(slow.messages) < 16, "the kill came too late to test anything"

    rerun = start_sender(env)
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, out + err
    assert sorted(str(m["To"]) for m in slow.messages) == expected, "every e-mail exactly once"
    statuses = [row.status for row in rows()]
    # The message the kill interrupted after its end: delivered, its row still `sending`, never resent.
    assert set(statuses) <= {"sent", "sending"} and statuses.count("sending") <= 1
