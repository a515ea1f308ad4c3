"""Following a tavolo: idempotent, only for active participants, always undoable."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from consulta.extensions import db
from consulta.tavoli.models import Follow


def follows(user=None) -> int:
    stmt = select(func.count()).select_from(Follow)
    if user is not None:
        stmt = stmt.where(Follow.user_id == user.id)
    return db.session.execute(stmt).scalar_one()


def test_follow_twice_keeps_one_row_and_unfollow_twice_is_fine(client, ambito, tavolo, dummy_user, login):
    login(dummy_user)
    for _ in range(2):
        response = client.post("/tavoli/anziani/segui")
        assert response.status_code == 302 and response.headers["Location"] == "/tavoli/anziani/"
    assert follows(dummy_user) == 1
    html = client.get("/tavoli/anziani/").get_data(as_text=True)
    assert "Ora segui questo tavolo" in html and "Non seguire più" in html

    for _ in range(2):
        assert client.post("/tavoli/anziani/non-seguire").status_code == 302
    assert follows(dummy_user) == 0
    html = client.get("/tavoli/anziani/").get_data(as_text=True)
    assert "Non segui più questo tavolo." in html and "Segui il tavolo" in html


def test_follow_without_csrf_is_refused(client, ambito, tavolo, dummy_user, login):
    login(dummy_user)
    assert client.post("/tavoli/anziani/segui", csrf=False).status_code == 400
    assert follows() == 0


def test_get_is_not_allowed(client, ambito, tavolo):
    assert client.get("/tavoli/anziani/segui").status_code == 405


# role x phase -> expected outcome of POST /segui
FOLLOW_TABLE = [
    ("anonymous", "open", "login"), ("anonymous", "closed", "login"), ("anonymous", "draft", 404),
    ("participant", "open", "ok"), ("participant", "discussion", "ok"), ("participant", "closed", "ok"),
    ("participant", "draft", 404),
    ("unverified", "open", 403), ("unverified", "draft", 404),
    ("blocked", "open", 403), ("blocked", "discussion", 403),
    ("facilitator", "open", "ok"), ("facilitator", "draft", 403),
    ("admin", "closed", "ok"), ("admin", "draft", 403),
]


@pytest.mark.parametrize(("role", "phase", "expected"), FOLLOW_TABLE)
def test_who_may_follow(client, ambito, create_tavolo, create_user, login, role, phase, expected):
    facilitator = create_user(role="facilitator")
    create_tavolo(slug="t", phase=phase, facilitators=[facilitator])
    user = {
        "anonymous": None, "participant": create_user(), "unverified": create_user(verified=False),
        "blocked": create_user(blocked_reason="Spam"), "facilitator": facilitator,
        "admin": create_user(role="admin"),
    }[role]
    if user is not None:
        login(user)

    response = client.post("/tavoli/t/segui")

    if expected == "ok":
        assert response.status_code == 302 and response.headers["Location"] == "/tavoli/t/"
        assert follows(user) == 1
    elif expected == "login":
        assert response.status_code == 302 and "/accedi" in response.headers["Location"]
        assert follows() == 0
    else:
        assert response.status_code == expected
        assert follows() == 0


def test_a_blocked_user_can_still_stop_following(client, ambito, tavolo, create_user, login):
    user = create_user(blocked_reason="Messaggi offensivi")
    db.session.add(Follow(user_id=user.id, tavolo_id=tavolo.id))
    db.session.commit()
    login(user)
    assert client.post("/tavoli/anziani/non-seguire").status_code == 302
    assert follows() == 0


def test_anonymous_unfollow_goes_to_login(client, ambito, tavolo):
    response = client.post("/tavoli/anziani/non-seguire")
    assert response.status_code == 302 and "/accedi" in response.headers["Location"]


@pytest.mark.postgres_only
@pytest.mark.committing
def test_concurrent_follows_make_one_row(app, backend, ambito, tavolo, dummy_user):
    """Twenty simultaneous follows by the same person: one row, no error."""
    if backend != "postgresql":
        pytest.skip("concurrency needs PostgreSQL")
    from concurrent.futures import ThreadPoolExecutor

    # Threads must not touch the test's own session: give them plain values.
    person = SimpleNamespace(email=dummy_user.email)

    def follow_once(_):
        client = app.test_client()
        with app.app_context():
            client.login(person)
            return client.post("/tavoli/anziani/segui").status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(follow_once, range(20)))
    assert set(statuses) == {302}
    assert follows(dummy_user) == 1
