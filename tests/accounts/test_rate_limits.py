"""Login, registration, password reset and resending are rate-limited (Flask-Limiter)."""

from __future__ import annotations

import os

import pytest

from .helpers import DEFAULT_PASSWORD, text

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
REDIS_URL = "redis://127.0.0.1:6379/15"


def assert_too_many(response):
    assert response.status_code == 429
    html = text(response)
    assert "Troppe richieste" in html and "Riprova fra qualche minuto" in html


def test_login_attempts_are_limited(rate_limited_app, dummy_user):
    client = rate_limited_app().test_client()
    for _ in range(3):
        assert client.post("/accedi", data={"email": dummy_user.email, "password": "Sbagliata-123456"}).status_code == 400
    assert_too_many(client.post("/accedi", data={"email": dummy_user.email, "password": DEFAULT_PASSWORD}))
    # Reading the page is not limited; only the attempts are.
    assert client.get("/accedi").status_code == 200


def test_registrations_are_limited(rate_limited_app, registration):
    client = rate_limited_app().test_client()
    for n in range(3):
        assert client.post("/registrati", data=registration(email="x", display_name=f"P {n}")).status_code == 400
    assert_too_many(client.post("/registrati", data=registration()))


def test_reset_requests_are_limited(deliver_outbox, rate_limited_app, dummy_user, smtp_sink):
    client = rate_limited_app().test_client()
    for _ in range(3):
        assert client.post("/password/dimenticata", data={"email": "nessuno@example.org"}).status_code == 302
    assert_too_many(client.post("/password/dimenticata", data={"email": dummy_user.email}))
    deliver_outbox()
    assert smtp_sink.messages == []


def test_resending_the_verification_is_limited(deliver_outbox, rate_limited_app, create_user, smtp_sink):
    user = create_user(email="nuova@example.org", verified=False)
    client = rate_limited_app(RATELIMIT_RESEND="2 per hour").test_client()
    client.login(user)
    for _ in range(2):
        assert client.post("/profilo/verifica/invia").status_code == 302
    assert_too_many(client.post("/profilo/verifica/invia"))
    deliver_outbox()
    smtp_sink.wait_for(2)
    assert len(smtp_sink.messages) == 2


def _redis_or_skip():
    import redis

    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError as error:
        message = f"Redis not reachable at {REDIS_URL}: {error}"
        if IN_CI:
            pytest.fail(message + " (CI=true: Redis is required)")
        pytest.skip(message)
    return connection


@pytest.fixture
def redis_db():
    connection = _redis_or_skip()
    connection.flushdb()
    yield connection
    connection.flushdb()
    connection.close()


def test_login_limit_counts_in_redis_across_workers(rate_limited_app, dummy_user, redis_db):
    """Two app instances (two gunicorn workers) share the counter through Redis."""
    first = rate_limited_app(RATELIMIT_STORAGE_URI=REDIS_URL).test_client()
    for _ in range(2):
        assert first.post("/accedi", data={"email": dummy_user.email, "password": "Sbagliata-123456"}).status_code == 400
    assert any(b"accounts.login" in key for key in redis_db.keys("*")), redis_db.keys("*")

    second = rate_limited_app(RATELIMIT_STORAGE_URI=REDIS_URL).test_client()
    assert second.post("/accedi", data={"email": dummy_user.email, "password": "Sbagliata-123456"}).status_code == 400
    assert_too_many(second.post("/accedi", data={"email": dummy_user.email, "password": DEFAULT_PASSWORD}))


# --------------------------------------------------------------------------- behind a reverse proxy

def _guess(client, email, forwarded_for=None):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.post("/accedi", data={"email": email, "password": "Sbagliata-123456"}, headers=headers)


def test_behind_the_proxy_each_citizen_has_their_own_login_limit(rate_limited_app, dummy_user, create_user):
    """Every request reaches the app from the proxy's address; TRUSTED_PROXIES=1 reads the real one."""
    other = create_user(email="altra@example.org")
    app = rate_limited_app(TRUSTED_PROXIES=1)
    first, second = app.test_client(), app.test_client()
    for _ in range(3):
        assert _guess(first, dummy_user.email, "203.0.113.7").status_code == 400
    assert_too_many(_guess(first, dummy_user.email, "203.0.113.7"))
    # Another citizen behind the same proxy is not locked out by the first one's mistakes.
    response = second.post("/accedi", data={"email": other.email, "password": DEFAULT_PASSWORD},
                           headers={"X-Forwarded-For": "198.51.100.20"})
    assert response.status_code == 302


def test_without_trusted_proxies_a_forged_forwarded_for_does_not_dodge_the_limit(rate_limited_app, dummy_user):
    client = rate_limited_app().test_client()
    for n in range(3):
        assert _guess(client, dummy_user.email, f"203.0.113.{n}").status_code == 400
    assert_too_many(_guess(client, dummy_user.email, "203.0.113.99"))


def test_many_addresses_guessing_one_account_hit_the_per_account_limit(rate_limited_app, dummy_user, create_user):
    other = create_user(email="altra@example.org")
    app = rate_limited_app(TRUSTED_PROXIES=1, RATELIMIT_LOGIN_ACCOUNT="4 per hour")
    client = app.test_client()
    for n in range(4):
        # Each guess from a new address: the per-address limit (3 per minute) never triggers.
        assert _guess(client, dummy_user.email.upper(), f"203.0.113.{n}").status_code == 400
    assert_too_many(client.post("/accedi", data={"email": dummy_user.email, "password": DEFAULT_PASSWORD},
                                headers={"X-Forwarded-For": "198.51.100.1"}))
    # Another account is not affected.
    response = client.post("/accedi", data={"email": other.email, "password": DEFAULT_PASSWORD},
                           headers={"X-Forwarded-For": "198.51.100.2"})
    assert response.status_code == 302


def test_successful_logins_do_not_count_against_the_account(rate_limited_app, dummy_user):
    app = rate_limited_app(TRUSTED_PROXIES=1, RATELIMIT_LOGIN_ACCOUNT="2 per hour")
    for n in range(4):
        client = app.test_client()
        response = client.post("/accedi", data={"email": dummy_user.email, "password": DEFAULT_PASSWORD},
                               headers={"X-Forwarded-For": f"203.0.113.{n}"})
        assert response.status_code == 302


def test_the_per_account_limit_counts_in_redis_across_workers(rate_limited_app, dummy_user, redis_db):
    settings = {"RATELIMIT_STORAGE_URI": REDIS_URL, "TRUSTED_PROXIES": 1, "RATELIMIT_LOGIN_ACCOUNT": "2 per hour"}
    first = rate_limited_app(**settings).test_client()
    second = rate_limited_app(**settings).test_client()
    assert _guess(first, dummy_user.email, "203.0.113.1").status_code == 400
    assert _guess(second, dummy_user.email, "203.0.113.2").status_code == 400
    # No address is stored in clear: the account key is a hash.
    assert not any(dummy_user.email.encode() in key for key in redis_db.keys("*"))
    assert_too_many(_guess(first, dummy_user.email, "203.0.113.3"))
