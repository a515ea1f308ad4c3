"""Twenty identical votes at the same moment against a real server: one ballot, never a 500."""

from __future__ import annotations

import http.client
import re
import threading
import time
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.pool import NullPool

from consulta.core.db import utcnow
from consulta.extensions import db
from consulta.votes.models import Vote
from tests.conftest import DEFAULT_PASSWORD

USER_AGENT = "consulta-concurrency-test"
THREADS = 20


class Browserless:
    """A tiny cookie-keeping HTTP client over http.client (one connection per request)."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None, cookies: dict | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        jar = self.cookies if cookies is None else cookies
        headers = {"User-Agent": USER_AGENT}
        if jar:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        if cookies is None:
            for header in response.headers.get_all("Set-Cookie") or []:
                parsed = SimpleCookie(header)
                for key, morsel in parsed.items():
                    self.cookies[key] = morsel.value
        connection.close()
        return response.status, text

    @staticmethod
    def csrf_token(html: str) -> str:
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', html)
        assert match, "no CSRF token on the page"
        return match.group(1)


def logged_in_session(live_server, voter) -> tuple[Browserless, dict[str, str], str]:
    """Log in once like a browser; return the client, the session cookies and a CSRF token from a page."""
    browser = Browserless(live_server.port)
    status, login_page = browser.request("GET", "/accedi")
    assert status == 200
    status, _ = browser.request("POST", "/accedi", {
        "email": voter.email, "password": DEFAULT_PASSWORD, "csrf_token": browser.csrf_token(login_page)})
    assert status == 302, "login failed"
    status, home = browser.request("GET", "/")
    assert status == 200
    return browser, dict(browser.cookies), browser.csrf_token(home)


def fire_at_once(browser, cookies, path, form, count=THREADS) -> tuple[list[threading.Thread], list, list]:
    """Start `count` threads that POST the same form together (released by a barrier)."""
    barrier = threading.Barrier(count)
    statuses: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def post():
        try:
            barrier.wait(timeout=30)
            status, _ = browser.request("POST", path, form, cookies=cookies)
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
    browser, cookies, token = logged_in_session(live_server, voter)

    threads, statuses, errors = fire_at_once(browser, cookies, f"/proposte/{proposal_id}/voto",
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
    browser, cookies, token = logged_in_session(live_server, voter)

    # Outside the app's pool: the requests may use all of it.
    outsider = create_engine(db.engine.url, poolclass=NullPool)
    with outsider.connect() as other:
        held = other.begin()
        other.execute(insert(Vote).values(
            tavolo_id=tavolo_id, proposal_id=proposal_id, ballot_key=f"person:{voter.id}", voter_id=voter.id,
            category="citizen", value="against", created_at=utcnow(), updated_at=utcnow()))
        threads, statuses, errors = fire_at_once(browser, cookies, f"/proposte/{proposal_id}/voto",
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
