"""Races, with real threads against a live server on PostgreSQL: a double click stores one proposal, two
facilitators answering or approving at once make one act and one 409, flags crossing the threshold hide
once, a vote racing its own withdrawal never answers 500, people voting and commenting at once are all
counted on the proposal and the tavolo.

To make a race certain rather than likely, a connection outside the app holds the contested row
(`SELECT … FOR UPDATE`) while the requests start; once they all wait on it, it lets go, and they
meet exactly where real double clicks meet.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.pool import NullPool

from consulta.core.notify import Notification
from consulta.extensions import db
from consulta.meetings.models import Minutes
from consulta.proposals.models import Proposal
from consulta.votes.models import Vote
from tests.http_person import signed_in

pytestmark = pytest.mark.usefixtures("postgres_only")


@pytest.fixture
def postgres_only(backend):
    if backend != "postgresql":
        pytest.skip("a race needs real concurrent transactions: PostgreSQL only (SQLite serialises writers)")


def at_once(calls) -> list[tuple[int, dict, str]]:
    """Run the calls in threads released together by a barrier; their (status, headers, body) in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait(timeout=30)
            results[i] = call()
        except BaseException as exc:  # reported below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    return threads, results


def finished(threads, results):
    for thread in threads:
        thread.join(timeout=120)
    errors = [r for r in results if isinstance(r, BaseException) or r is None]
    assert errors == []
    return results


@contextmanager
def holding(table: str, row_id: int, waiters: int):
    """Hold a row locked from outside the app until `waiters` requests wait on a lock (or 10 s pass)."""
    outsider = create_engine(db.engine.url, poolclass=NullPool)
    with outsider.connect() as other:
        held = other.begin()
        other.execute(text(f'SELECT id FROM "{table}" WHERE id = :id FOR UPDATE'), {"id": row_id})

        def wait_for_waiters():
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                with outsider.connect() as probe:
                    waiting = probe.execute(text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event_type = 'Lock'")).scalar_one()
                if waiting >= waiters:
                    return
                time.sleep(0.02)

        yield wait_for_waiters
        held.rollback()
    outsider.dispose()


def count(model, *conditions) -> int:
    db.session.expire_all()
    return db.session.execute(select(func.count()).select_from(model).where(*conditions)).scalar_one()


def fresh(model, ident):
    db.session.expire_all()
    return db.session.get(model, ident)


def statuses(results) -> list[int]:
    return sorted(status for status, _, _ in results)


# --------------------------------------------------------------------------- double click on "Invia proposta"

def test_five_clicks_on_invia_proposta_store_one_proposal(live_server, tavolo, create_user):
    author = create_user(email="doppio@example.org", display_name="Dora Doppioclic")
    person = signed_in(live_server, author)
    path = f"/tavoli/{tavolo.slug}/proposte/nuova"
    form = {**person.form_page(path), "title": "Navetta per il centro diurno", "body": "Una navetta al mattino."}

    threads, results = at_once([person.race(path, form)] * 5)
    results = finished(threads, results)

    [proposal_id] = db.session.execute(
        select(Proposal.id).where(Proposal.title == "Navetta per il centro diurno")).scalars().all()
    assert statuses(results) == [302] * 5
    assert {headers["Location"] for _, headers, _ in results} == {f"/proposte/{proposal_id}/"}


# --------------------------------------------------------------------------- two facilitators answer at once

def test_two_facilitators_answering_at_once_make_one_answer_and_one_409(live_server, create_user, create_tavolo,
                                                                         create_proposal):
    first = create_user(email="f1@example.org", display_name="Franca Prima", role="facilitator")
    second = create_user(email="f2@example.org", display_name="Filippo Secondo", role="facilitator")
    author = create_user(email="autrice@example.org", display_name="Anna Autrice")
    tavolo = create_tavolo(slug="anziani", facilitators=[first, second])
    proposal = create_proposal(tavolo, author, title="Centro diurno")
    proposal_id, author_id = proposal.id, author.id
    path = f"/facilitazione/proposte/{proposal_id}/risposta"
    calls = []
    for person, outcome in ((signed_in(live_server, first), "approved"), (signed_in(live_server, second), "rejected")):
        form = {**person.form_page(path), "outcome": outcome, "motivation": f"Motivazione: {outcome}."}
        calls.append(person.race(path, form))

    with holding("proposal", proposal_id, waiters=2) as wait_for_waiters:
        threads, results = at_once(calls)
        wait_for_waiters()
    results = finished(threads, results)

    assert statuses(results) == [302, 409]
    [lost] = [html for status, _, html in results if status == 409]
    assert "Un altro facilitatore ha appena risposto a questa proposta" in lost
    assert count(Notification, Notification.user_id == author_id, Notification.event == "proposal.answered") == 1
    assert fresh(Proposal, proposal_id).state in ("approved", "rejected")


# --------------------------------------------------------------------------- flags crossing the threshold

def test_flags_crossing_the_threshold_at_once_hide_once_and_tell_the_author_once(
        live_server, app, tavolo, create_user, create_proposal, create_flag):
    assert app.config["FLAGS_TO_HIDE"] == 3
    author = create_user(email="autore@example.org", display_name="Aldo Autore")
    proposal = create_proposal(tavolo, author, title="Proposta discussa")
    proposal_id, author_id = proposal.id, author.id
    reporters = [create_user(email=f"segnala{n}@example.org", display_name=f"Segnalatore {n}") for n in range(5)]
    for reporter in reporters[:2]:
        create_flag(proposal, reporter)
    path = f"/proposte/{proposal_id}/segnala"
    calls = []
    for reporter in reporters[2:]:
        person = signed_in(live_server, reporter)
        form = {**person.form_page(path), "reason": "offensive"}
        calls.append(person.race(path, form))

    with holding("proposal", proposal_id, waiters=3) as wait_for_waiters:
        threads, results = at_once(calls)
        wait_for_waiters()
    results = finished(threads, results)

    assert all(status in (302, 409) for status in statuses(results)), statuses(results)
    assert fresh(Proposal, proposal_id).visibility == "hidden"
    assert count(Notification, Notification.user_id == author_id, Notification.event == "proposal.hidden") == 1


# --------------------------------------------------------------------------- two approvals of the same minutes

def test_two_facilitators_approving_the_same_minutes_make_one_approval_and_one_409(
        live_server, create_user, create_tavolo, create_meeting, create_minutes):
    first = create_user(email="f1@example.org", display_name="Franca Prima", role="facilitator")
    second = create_user(email="f2@example.org", display_name="Filippo Secondo", role="facilitator")
    tavolo = create_tavolo(slug="anziani", facilitators=[first, second])
    meeting = create_meeting(tavolo, starts_in=timedelta(hours=-3), by=first)
    minutes = create_minutes(meeting, externals=[("Maria Rossi", "Assistente sociale")], by=first)
    minutes_id = minutes.id
    editor, path = f"/facilitazione/verbali/{minutes_id}/", f"/facilitazione/verbali/{minutes_id}/approva"
    calls = []
    for user in (first, second):
        person = signed_in(live_server, user)
        form = {**person.form_page(editor), "confirm": "y"}
        calls.append(person.race(path, form))

    with holding("minutes", minutes_id, waiters=2) as wait_for_waiters:
        threads, results = at_once(calls)
        wait_for_waiters()
    results = finished(threads, results)

    assert statuses(results) == [302, 409]
    [lost] = [html for status, _, html in results if status == 409]
    assert "Il verbale è approvato e non si può più modificare" in lost
    assert fresh(Minutes, minutes_id).status == "approved"


# --------------------------------------------------------------------------- a vote racing its own withdrawal

def test_a_vote_racing_its_own_withdrawal_never_answers_500(live_server, tavolo, create_user, create_proposal,
                                                            create_vote):
    voter = create_user(email="votante@example.org", display_name="Vera Votante")
    proposal = create_proposal(tavolo, create_user(email="autore@example.org", display_name="Aldo Autore"),
                               title="Proposta votata")
    create_vote(proposal, voter, "against")
    proposal_id = proposal.id
    vote_id = db.session.execute(select(Vote.id).where(Vote.proposal_id == proposal_id)).scalar_one()
    person = signed_in(live_server, voter)
    fields = person.form_page(f"/proposte/{proposal_id}/")
    path = f"/proposte/{proposal_id}/voto"
    calls = [person.race(path, {**fields, "value": value}) for value in ["remove", "for"] * 5]

    with holding("vote", vote_id, waiters=6) as wait_for_waiters:
        threads, results = at_once(calls)
        wait_for_waiters()
    results = finished(threads, results)

    assert all(status in (302, 409) for status in statuses(results)), statuses(results)
    assert count(Vote, Vote.proposal_id == proposal_id) <= 1


# --------------------------------------------------------------------------- the counters under concurrent votes and comments

def test_people_voting_and_commenting_at_once_are_all_counted(live_server, tavolo, create_user, create_proposal):
    from consulta.comments.models import Comment
    from consulta.tavoli.models import Tavolo

    proposal = create_proposal(tavolo, create_user(email="autore@example.org", display_name="Aldo Autore"),
                               title="Proposta contesa")
    proposal_id, tavolo_id = proposal.id, tavolo.id
    path = f"/proposte/{proposal_id}/"
    calls = []
    for n in range(6):
        person = signed_in(live_server, create_user(email=f"persona{n}@example.org", display_name=f"Persona {n}"))
        fields = person.form_page(path)
        calls.append(person.race(f"{path}voto", {**fields, "value": "for"}))
        calls.append(person.race(f"{path}commenti", {**person.form_page(path), "body": f"Commento {n}"}))

    with holding("proposal", proposal_id, waiters=6) as wait_for_waiters:
        threads, results = at_once(calls)
        wait_for_waiters()
    results = finished(threads, results)

    assert statuses(results) == [302] * 12
    kept = fresh(Proposal, proposal_id)
    assert (kept.votes_for_count, kept.comments_count) == (6, 6)
    assert count(Vote, Vote.proposal_id == proposal_id) == 6 and count(Comment, Comment.proposal_id == proposal_id) == 6
    figures = fresh(Tavolo, tavolo_id)
    assert (figures.comments_count, figures.participants_count) == (6, 7)
