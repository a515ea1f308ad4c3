"""Faults: SMTP down or refusing, interrupted sends, SIGKILL midway, two workers at once."""

from __future__ import annotations

import os
import signal
from datetime import timedelta

import pytest
from sqlalchemy import insert, select, update

from consulta.core.db import utcnow
from consulta.extensions import db
from tests.conftest import DEFAULT_PASSWORD, free_port
from tests.digests.conftest import (
    RefusingSink,
    SlowSink,
    command_env,
    outbox_rows,
    pending_count,
    start_command,
)


def _age_retries() -> None:
    """Time passes: every backoff is over."""
    from consulta.digests.models import OutboxEmail

    db.session.execute(update(OutboxEmail).where(OutboxEmail.status == "pending")
                       .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_smtp_down_keeps_rows_pending_and_the_next_run_delivers_them(
        app, make_app, smtp_sink, followers, send_digests):
    people = followers(2)
    down = make_app(MAIL_PORT=free_port())  # nothing listens there

    result = send_digests(on=down)
    assert result.exit_code == 1
    assert "Riepiloghi inviati: 0 · saltati: 0 · non riusciti: 2" in result.output
    assert "2 da ritentare più tardi" in result.output
    rows = outbox_rows()
    assert [row.status for row in rows] == ["pending", "pending"]
    assert all(row.attempts == 1 and "non raggiungibile" in row.last_error for row in rows)
    assert all(row.next_attempt_at > utcnow() for row in rows)  # backoff
    assert all(pending_count(person) == 0 for person in people)  # kept in the outbox, not lost

    # SMTP is back, but the backoff has not expired: nothing yet, nothing doubled.
    assert "Riepiloghi inviati: 0" in send_digests().output
    assert smtp_sink.messages == []

    _age_retries()
    result = send_digests()
    assert result.exit_code == 0
    assert "Riepiloghi inviati: 2" in result.output
    assert sorted(str(m["To"]) for m in smtp_sink.messages) == ["p0@example.org", "p1@example.org"]
    assert all(row.status == "sent" and row.attempts == 1 for row in outbox_rows())


def test_a_run_stops_trying_after_repeated_connection_failures(app, make_app, smtp_sink, followers, send_digests):
    followers(5)
    down = make_app(MAIL_PORT=free_port(), DIGEST_SMTP_GIVE_UP_AFTER=3)
    result = send_digests(on=down)
    assert result.exit_code == 1
    assert "Invio sospeso: Server SMTP" in result.output
    assert "2 destinatari rinviati alla prossima esecuzione" in result.output
    # The batch was written before sending: the last two wait, untried, for the next run (or send-mail).
    assert [(row.status, row.attempts) for row in outbox_rows()] == [("pending", 1)] * 3 + [("pending", 0)] * 2

    _age_retries()
    assert "Riepiloghi inviati: 5" in send_digests().output
    assert len(smtp_sink.messages) == 5


def test_temporary_refusals_are_retried_then_reported(app, make_app, start_sink, followers, send_digests):
    followers(1)
    busy = start_sink(RefusingSink(code=451))
    refusing = make_app(MAIL_PORT=busy.port, DIGEST_MAX_ATTEMPTS=2)

    first = send_digests(on=refusing)
    assert first.exit_code == 1 and "1 da ritentare più tardi" in first.output
    (row,) = outbox_rows()
    assert row.status == "pending" and row.attempts == 1 and "451" in row.last_error

    _age_retries()
    second = send_digests(on=refusing)
    assert "1 falliti definitivamente (vedi /gestione/posta/)" in second.output
    (row,) = outbox_rows()
    assert row.status == "failed" and row.attempts == 2 and "451" in row.last_error
    _age_retries()
    assert "non riusciti: 0" in send_digests(on=refusing).output  # a failed row is not retried by itself


def test_a_permanent_refusal_fails_at_once_and_shows_in_the_outbox(
        app, client, make_app, start_sink, followers, admin_user, send_digests):
    followers(1)
    refusing = make_app(MAIL_PORT=start_sink(RefusingSink(code=550)).port)
    result = send_digests(on=refusing)
    assert "1 falliti definitivamente" in result.output
    (row,) = outbox_rows()
    assert row.status == "failed" and row.attempts == 1 and "550" in row.last_error

    client.login(admin_user)
    html = client.get("/gestione/posta/?stato=failed").get_data(as_text=True)
    assert "p0@example.org" in html and "Non riuscita" in html and "550 5.1.1 Mailbox does not exist" in html


def test_a_recipient_blocked_after_the_digest_was_written_gets_nothing(app, make_app, smtp_sink, followers,
                                                                      send_digests):
    (person,) = followers(1)
    send_digests(on=make_app(MAIL_PORT=free_port()))
    person.blocked_at = utcnow()
    person.blocked_reason = "Spam"
    db.session.commit()
    _age_retries()

    result = send_digests()
    assert "1 annullati (destinatario sospeso o disiscritto)" in result.output
    assert smtp_sink.messages == []
    (row,) = outbox_rows()
    assert row.status == "cancelled" and row.last_error == "Account sospeso prima dell'invio."


def _interrupted_row(person):
    """A row left `sending` by a worker that died after the end of the message, 20 minutes ago."""
    from consulta.digests.builder import build_digest, pending_notifications, period_key
    from consulta.digests.operations import store_digest

    row = store_digest(build_digest(person, "weekly", period_key("weekly"), pending_notifications(person.id)))
    row.move_to("sending")
    row.claimed_by = "altro-server:4242"
    row.claimed_at = utcnow() - timedelta(minutes=20)
    db.session.commit()
    return row


def test_an_interrupted_send_is_reported_not_resent_by_default(app, smtp_sink, followers, send_digests):
    (person,) = followers(1)
    _interrupted_row(person)
    result = send_digests()
    assert "non riusciti: 1" in result.output and "1 falliti definitivamente" in result.output
    assert smtp_sink.messages == []
    (row,) = outbox_rows()
    assert row.status == "failed" and "Invio interrotto" in row.last_error


def test_an_interrupted_send_in_flight_elsewhere_is_left_alone(app, smtp_sink, followers, send_digests):
    (person,) = followers(1)
    row = _interrupted_row(person)
    row.claimed_at = utcnow() - timedelta(seconds=30)  # another worker is still waiting for its answer
    db.session.commit()
    send_digests()
    assert smtp_sink.messages == []
    assert outbox_rows()[0].status == "sending"


def test_interrupted_sends_can_be_resent_when_configured(app, make_app, smtp_sink, followers, send_digests):
    (person,) = followers(1)
    _interrupted_row(person)
    result = send_digests(on=make_app(DIGEST_RESEND_INTERRUPTED=True))
    assert "Riepiloghi inviati: 1" in result.output
    assert len(smtp_sink.messages) == 1
    assert outbox_rows()[0].status == "sent"


# --------------------------------------------------------------------------- processes

@pytest.mark.committing
def test_sigkill_midway_then_rerun_sends_every_digest_exactly_once(app, start_sink, create_user, create_tavolo,
                                                                  create_follow, create_proposal):
    from consulta.digests.models import OutboxEmail

    tavolo = create_tavolo(slug="kill", title="Tavolo kill")
    people = [create_user(email=f"k{n:02d}@example.org") for n in range(40)]
    for person in people:
        create_follow(person, tavolo=tavolo)
    create_proposal(tavolo, create_user(email="autore@example.org"), title="Servizio civile")
    expected = sorted(p.email for p in people)
    db.session.remove()
    slow = start_sink(SlowSink(delay=0.04))
    env = command_env(app, slow)

    worker = start_command(env)
    slow.wait_for(12, timeout=60)
    os.kill(worker.pid, signal.SIGKILL)
    worker.communicate(timeout=10)
    assert worker.returncode == -signal.SIGKILL
    delivered_before = len(slow.messages)
    assert delivered_before < 40, "the kill came too late to test anything"

    rerun = start_command(env)
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, out + err
    addresses = [str(m["To"]) for m in slow.messages]
    assert sorted(addresses) == expected, "every due recipient exactly once"
    rows = db.session.execute(select(OutboxEmail)).scalars().all()
    assert len(rows) == 40
    # The message the kill interrupted after its end: delivered, its row still `sending`, never resent.
    assert {row.status for row in rows} <= {"sent", "sending"}
    assert sum(row.status == "sending" for row in rows) <= 1


def _bulk_followers(n: int, tavolo_id: int) -> None:
    """n verified participants following a tavolo, each with one pending notification (fast inserts)."""
    from consulta.accounts.models import User
    from consulta.core.notify import Notification
    from consulta.tavoli.models import Follow

    password_hash = db.session.execute(select(User.password_hash).limit(1)).scalar_one()
    now = utcnow()
    db.session.execute(insert(User), [
        {"email": f"w{i:04d}@example.org", "display_name": f"Persona {i}", "password_hash": password_hash,
         "role": "participant", "registered_as": "citizen", "digest_frequency": "weekly", "locale": "it",
         "privacy_consent_at": now, "email_verified_at": now, "session_version": 1, "created_at": now}
        for i in range(n)])
    ids = db.session.execute(select(User.id).where(User.email.like("w%@example.org"))).scalars().all()
    db.session.execute(insert(Follow), [{"user_id": uid, "tavolo_id": tavolo_id, "created_at": now} for uid in ids])
    db.session.execute(insert(Notification), [
        {"user_id": uid, "event": "tavolo.phase_changed", "subject_type": "tavolo", "subject_id": tavolo_id,
         "tavolo_id": tavolo_id, "data": {"from": "open", "to": "discussion"}, "created_at": now} for uid in ids])
    db.session.commit()


@pytest.mark.committing
def test_two_workers_on_postgresql_send_exactly_one_digest_each(app, backend, start_sink, create_user,
                                                                 create_tavolo):
    if backend != "postgresql":
        pytest.skip("parallel workers claim with SKIP LOCKED, a PostgreSQL feature; on SQLite run one at a time")
    create_user(email="modello@example.org", password=DEFAULT_PASSWORD)
    tavolo = create_tavolo(slug="parallelo", title="Tavolo parallelo", phase="discussion")
    _bulk_followers(500, tavolo.id)
    db.session.remove()
    sink = start_sink(SlowSink(delay=0.005))
    env = command_env(app, sink)

    workers = [start_command(env), start_command(env)]
    outputs = [w.communicate(timeout=300) for w in workers]
    for worker, (out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, out + err
    addresses = [str(m["To"]) for m in sink.messages]
    assert len(addresses) == 500 and len(set(addresses)) == 500
    sent_by = [int(out.split("Riepiloghi inviati: ")[1].split(" ")[0]) for out, _err in outputs]
    assert sum(sent_by) == 500
    assert all(n > 0 for n in sent_by), f"both workers should have worked: {sent_by}"


def test_an_address_smtp_cannot_carry_fails_alone_without_stopping_the_run(app, smtp_sink, create_user,
                                                                          create_tavolo, create_follow, create_proposal,
                                                                          send_digests):
    tavolo = create_tavolo(slug="utf8", title="Tavolo")
    odd = create_user(email="josé@example.org")
    fine = create_user(email="jose@example.org")
    for person in (odd, fine):
        create_follow(person, tavolo=tavolo)
    create_proposal(tavolo, create_user(), title="Sportello badanti")
    result = send_digests()
    assert "Riepiloghi inviati: 1" in result.output and "1 falliti definitivamente" in result.output
    assert [str(m["To"]) for m in smtp_sink.messages] == ["jose@example.org"]
    failed = outbox_rows(status="failed")
    assert [row.to_address for row in failed] == ["josé@example.org"]
    assert "non ASCII" in failed[0].last_error or "non componibile" in failed[0].last_error
