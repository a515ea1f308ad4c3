"""Digests at the speed of SMTP: recipients in batches with a constant number of statements per
batch, one SMTP connection per run, a digest written meanwhile by someone else never doubled."""

from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select

from consulta.accounts.models import User
from consulta.core.db import utcnow
from consulta.extensions import db
from tests.digests.conftest import DroppingSink, outbox_rows, pending_count


def _people(prefix: str, n: int, *, tavolo_id: int, queue_tavolo_id: int, notes: list[dict]) -> list[int]:
    """n verified participants following a tavolo, each with `notes` pending, the first of them a
    facilitator of a tavolo with a moderation queue (fast inserts: hundreds of people)."""
    from consulta.core.notify import Notification
    from consulta.tavoli.models import Follow, tavolo_facilitator

    password_hash = db.session.execute(select(User.password_hash).limit(1)).scalar_one()
    now = utcnow()
    db.session.execute(insert(User), [
        {"email": f"{prefix}{i:03d}@example.org", "display_name": f"Persona {prefix}{i}",
         "password_hash": password_hash, "role": "facilitator" if i == 0 else "participant",
         "registered_as": "citizen", "digest_frequency": "weekly", "locale": "en" if i % 3 else "it",
         "privacy_consent_at": now, "email_verified_at": now, "session_version": 1, "created_at": now}
        for i in range(n)])
    ids = db.session.execute(select(User.id).where(User.email.like(f"{prefix}%@example.org"))
                             .order_by(User.id)).scalars().all()
    db.session.execute(insert(tavolo_facilitator), [{"tavolo_id": queue_tavolo_id, "user_id": ids[0]}])
    db.session.execute(insert(Follow), [{"user_id": uid, "tavolo_id": tavolo_id, "created_at": now} for uid in ids])
    db.session.execute(insert(Notification), [{"user_id": uid, "tavolo_id": tavolo_id, "created_at": now, **note}
                                              for uid in ids for note in notes])
    db.session.commit()
    return ids


def test_a_batch_of_100_recipients_costs_the_statements_of_a_batch_of_10(
        app, count_queries, create_user, create_tavolo, create_proposal, create_objective, create_comment,
        create_vote, create_meeting):
    from consulta.digests.operations import due_recipients, write_digests

    tavolo = create_tavolo(slug="anziani", title="Anziani", phase="discussion")
    queue = create_tavolo(slug="casa", title="Casa", moderation="pre")
    author = create_user(email="autrice@example.org")
    proposal = create_proposal(tavolo, author, title="Trasporto sociale")
    create_proposal(queue, author, title="In attesa di moderazione", state="submitted")
    objective = create_objective(tavolo, title="Ridurre le attese")
    comment = create_comment(proposal, author, body="Serve anche il sabato.")
    meeting = create_meeting(tavolo, title="Primo incontro")
    notes = [
        {"event": "proposal.published", "subject_type": "proposal", "subject_id": proposal.id, "data": {}},
        {"event": "objective.published", "subject_type": "objective", "subject_id": objective.id, "data": {}},
        {"event": "comment.created", "subject_type": "comment", "subject_id": comment.id,
         "data": {"subject_type": "proposal", "subject_id": proposal.id, "author_name": "Autrice"}},
        {"event": "meeting.scheduled", "subject_type": "meeting", "subject_id": meeting.id,
         "data": {"title": meeting.title, "starts_at": meeting.starts_at.isoformat()}},
        {"event": "tavolo.phase_changed", "subject_type": "tavolo", "subject_id": tavolo.id, "data": {"to": "discussion"}},
    ]
    before = db.session.execute(select(func.max(User.id))).scalar_one()
    few = _people("pochi", 10, tavolo_id=tavolo.id, queue_tavolo_id=queue.id, notes=notes)
    many = _people("molti", 100, tavolo_id=tavolo.id, queue_tavolo_id=queue.id, notes=notes)
    create_vote(proposal, db.session.get(User, few[1]))
    create_vote(proposal, db.session.get(User, many[1]))
    now = utcnow()

    def batch(after: int, size: int) -> tuple[int, list[int]]:
        # Each in its own app context, as each run has: the Ambito's name is read once per run.
        with app.app_context(), count_queries() as counter:
            users = due_recipients(("weekly",), now, after=after, size=size, lock=True)
            user_ids = [user.id for user in users]
            row_ids, skipped = write_digests(users, now)
            db.session.commit()
        assert skipped == 0 and len(row_ids) == size
        return counter.count, user_ids

    statements_few, built_few = batch(before, 10)
    statements_many, built_many = batch(built_few[-1], 100)
    assert (built_few, built_many) == (few, many)
    assert statements_few == statements_many, "a statement per recipient crept in"
    # Who is due, their notifications, six kinds of subject, who took part, the moderation queues
    # (three), the Ambito's name, the rows, the notifications marked: fifteen, whatever the number.
    assert statements_many <= 15

    rows = outbox_rows()
    assert len(rows) == 110 and {row.status for row in rows} == {"pending"}
    facilitator_row = next(row for row in rows if row.recipient_id == many[0])
    assert "Da moderare" in facilitator_row.body_text or "To moderate" in facilitator_row.body_text
    assert all(pending_count(db.session.get(User, uid)) == 0 for uid in (few[0], many[-1]))


def test_a_digest_written_meanwhile_by_someone_else_is_not_doubled_and_the_news_waits(
        app, create_user, create_tavolo, create_follow, create_proposal):
    """The unique constraint is the last defence: a batch that meets a digest of the same period (an
    admin's "send now" between the check and the insert) leaves that person out, and their news
    waits for the next digest."""
    from consulta.digests.builder import build_digest, pending_notifications, period_key
    from consulta.digests.operations import store_digest, write_digests

    tavolo = create_tavolo(slug="anziani", title="Anziani")
    anna = create_user(email="anna@example.org")
    bruno = create_user(email="bruno@example.org")
    for person in (anna, bruno):
        create_follow(person, tavolo=tavolo)
    create_proposal(tavolo, create_user(), title="Pedibus")
    store_digest(build_digest(anna, "weekly", period_key("weekly"), pending_notifications(anna.id)))
    db.session.commit()
    create_proposal(tavolo, create_user(), title="Banco alimentare")  # news after Anna's digest
    assert pending_count(anna) == 1

    row_ids, skipped = write_digests([anna, bruno], utcnow())
    db.session.commit()
    assert skipped == 1
    assert [(row.to_address, row.id in row_ids) for row in outbox_rows()] == [
        ("anna@example.org", False), ("bruno@example.org", True)]
    assert pending_count(anna) == 1 and pending_count(bruno) == 0


def test_one_run_sends_every_batch_over_one_smtp_connection(app, make_app, smtp_sink, followers, send_digests):
    people = followers(20)
    result = send_digests(on=make_app(DIGEST_BATCH_SIZE=6))
    assert "Riepiloghi inviati: 20 · saltati: 0 · non riusciti: 0" in result.output
    assert sorted(str(m["To"]) for m in smtp_sink.messages) == sorted(p.email for p in people)
    assert smtp_sink.connections == 1
    assert {row.status for row in outbox_rows()} == {"sent"}


@pytest.mark.parametrize("how", ["close", "421"])
def test_a_run_reconnects_when_the_server_ends_the_connection(app, make_app, start_sink, followers, send_digests,
                                                             how):
    people = followers(7)
    relay = start_sink(DroppingSink(per_connection=3, how=how))
    result = send_digests(on=make_app(MAIL_PORT=relay.port))
    assert "Riepiloghi inviati: 7 · saltati: 0 · non riusciti: 0" in result.output, result.output
    assert sorted(str(m["To"]) for m in relay.messages) == sorted(p.email for p in people)
    assert relay.connections == 3  # 3 + 3 + 1: a new connection only when the server ended the last one
    assert [(row.status, row.attempts) for row in outbox_rows()] == [("sent", 0)] * 7
