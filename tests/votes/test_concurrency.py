"""Twenty identical votes at the same moment against a real server: one ballot, never a 500."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.pool import NullPool

from consulta.core.db import utcnow
from consulta.extensions import db
from consulta.votes.models import Vote
from tests.http_person import Person, signed_in

THREADS = 20


def logged_in_session(live_server, voter) -> tuple[Person, str]:
    """Log in once like a browser; return the person and a CSRF token from a page."""
    person = signed_in(live_server, voter)
    return person, person.form_page("/")["csrf_token"]


def fire_at_once(person, path, form, count=THREADS) -> tuple[list[threading.Thread], list, list]:
    """Start `count` threads that POST the same form together (released by a barrier)."""
    barrier = threading.Barrier(count)
    statuses: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def post():
        try:
            barrier.wait(timeout=30)
            status, _headers, _body = person.request("POST", path, form, keep=False)
            with lock:
                statuses.append(status)
        except BaseException as exc:  # reported by the test
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=post) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads, statuses, errors


def ballots_on(proposal_id):
    db.session.expire_all()
    return db.session.execute(select(Vote).where(Vote.proposal_id == proposal_id)).scalars().all()


def assert_no_server_error(statuses, errors):
    assert errors == []
    assert len(statuses) == THREADS
    assert all(200 <= s < 400 or s == 409 for s in statuses), statuses
    assert any(s == 302 for s in statuses), statuses


def test_twenty_identical_votes_at_once_make_one_ballot(backend, live_server, cast, tavolo, create_proposal):
    if backend != "postgresql":
        pytest.skip("the race needs real concurrent transactions: PostgreSQL only")
    proposal_id = create_proposal(tavolo, cast.admin, title="Proposta contesa").id
    voter = cast.participant
    person, token = logged_in_session(live_server, voter)

    threads, statuses, errors = fire_at_once(person, f"/proposte/{proposal_id}/voto",
                                             {"value": "for", "csrf_token": token})
    for thread in threads:
        thread.join(timeout=120)

    assert_no_server_error(statuses, errors)
    [ballot] = ballots_on(proposal_id)
    assert (ballot.ballot_key, ballot.value) == (f"person:{voter.id}", "for")


def test_votes_that_lose_the_insert_race_update_the_winning_ballot(backend, live_server, cast, tavolo,
                                                                  create_proposal):
    """Force the race: another transaction holds the same ballot, uncommitted, while twenty requests
    insert it. Each INSERT waits on the unique index, then fails; the request must update that row."""
    if backend != "postgresql":
        pytest.skip("the race needs real concurrent transactions: PostgreSQL only")
    proposal = create_proposal(tavolo, cast.admin, title="Proposta contesa")
    proposal_id, tavolo_id = proposal.id, tavolo.id
    voter = cast.participant
    person, token = logged_in_session(live_server, voter)

    # Outside the app's pool: the requests may use all of it.
    outsider = create_engine(db.engine.url, poolclass=NullPool)
    with outsider.connect() as other:
        held = other.begin()
        other.execute(insert(Vote).values(
            tavolo_id=tavolo_id, proposal_id=proposal_id, ballot_key=f"person:{voter.id}", voter_id=voter.id,
            category="citizen", value="against", created_at=utcnow(), updated_at=utcnow()))
        threads, statuses, errors = fire_at_once(person, f"/proposte/{proposal_id}/voto",
                                                 {"value": "for", "csrf_token": token})
        # Wait until the requests are queued behind our uncommitted row (the pool lends at most 15 at once).
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with outsider.connect() as probe:
                waiting = probe.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'")).scalar_one()
            if waiting >= 10:
                break
            time.sleep(0.05)
        assert waiting >= 10, f"only {waiting} requests waited on the ballot"
        held.commit()
    outsider.dispose()
    for thread in threads:
        thread.join(timeout=120)

    assert_no_server_error(statuses, errors)
    [ballot] = ballots_on(proposal_id)
    assert (ballot.ballot_key, ballot.value) == (f"person:{voter.id}", "for")
