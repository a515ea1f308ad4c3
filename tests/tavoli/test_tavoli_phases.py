"""Tavolo phases: who may move a tavolo where, audit, follower notifications, drafts hidden."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from consulta.core.audit import AuditEvent
from consulta.core.notify import Notification
from consulta.extensions import db
from consulta.tavoli.models import Follow

# (role, from phase, to phase) -> expected status; 302 means moved.
MOVES = [
    ("admin", "draft", "open", 302),
    ("admin", "open", "draft", 302),
    ("admin", "open", "discussion", 302),
    ("admin", "discussion", "open", 302),
    ("admin", "discussion", "closed", 302),
    ("admin", "closed", "discussion", 302),
    ("admin", "draft", "closed", 409),
    ("admin", "open", "closed", 409),
    ("admin", "closed", "open", 409),
    ("admin", "open", "open", 409),
    ("facilitator", "open", "discussion", 302),
    ("facilitator", "discussion", "closed", 302),
    ("facilitator", "draft", "open", 403),
    ("facilitator", "open", "draft", 403),
    ("facilitator", "discussion", "open", 403),
    ("facilitator", "closed", "discussion", 403),
    ("facilitator", "open", "closed", 409),
    ("other_facilitator", "open", "discussion", 403),
    ("other_facilitator", "draft", "open", 404),
    ("participant", "open", "discussion", 403),
    ("participant", "discussion", "closed", 403),
    ("participant", "draft", "open", 404),
    ("anonymous", "open", "discussion", "login"),
    ("anonymous", "draft", "open", 404),
]


@pytest.mark.parametrize(("role", "source", "target", "expected"), MOVES)
def test_phase_moves_by_role(client, ambito, create_tavolo, create_user, login, role, source, target, expected):
    facilitator = create_user(role="facilitator")
    tavolo = create_tavolo(slug="t", phase=source, facilitators=[facilitator])
    create_tavolo(slug="altro", facilitators=[other := create_user(role="facilitator")])
    users = {"admin": lambda: create_user(role="admin"), "facilitator": lambda: facilitator,
             "other_facilitator": lambda: other, "participant": create_user}
    if role != "anonymous":
        login(users[role]())

    response = client.post("/facilitazione/tavoli/t/fase", data={"target": target})

    db.session.refresh(tavolo)
    events = db.session.execute(select(AuditEvent).where(AuditEvent.subject_type == "tavolo")).scalars().all()
    if expected == 302:
        assert response.status_code == 302 and response.headers["Location"] == "/tavoli/t/"
        assert tavolo.phase == target
        assert len(events) == 1
        assert events[0].changes == {"phase": [source, target]} and events[0].tavolo_id == tavolo.id
    else:
        if expected == "login":
            assert response.status_code == 302 and "/accedi" in response.headers["Location"]
        else:
            assert response.status_code == expected
        assert tavolo.phase == source
        assert events == []


def test_refused_move_explains_itself_in_italian(client, ambito, create_tavolo, facilitator, login):
    create_tavolo(slug="t", phase="draft", facilitators=[facilitator])
    login(facilitator)
    response = client.post("/facilitazione/tavoli/t/fase", data={"target": "open"})
    assert response.status_code == 403
    assert "Non hai i permessi per questa operazione." in response.get_data(as_text=True)


@pytest.mark.parametrize("target", ["", "aperto", "OPEN", "open; DROP TABLE tavolo"])
def test_unknown_phase_is_a_bad_request(client, ambito, create_tavolo, admin_user, login, target):
    tavolo = create_tavolo(slug="t", phase="draft")
    login(admin_user)
    assert client.post("/facilitazione/tavoli/t/fase", data={"target": target}).status_code == 400
    db.session.refresh(tavolo)
    assert tavolo.phase == "draft"


def test_phase_change_notifies_followers_but_not_the_actor(client, ambito, create_tavolo, create_user, login):
    facilitator = create_user(role="facilitator")
    tavolo = create_tavolo(slug="t", phase="open", facilitators=[facilitator])
    alice, bruno = create_user(), create_user()
    db.session.add_all([Follow(user_id=u.id, tavolo_id=tavolo.id) for u in (alice, bruno, facilitator)])
    db.session.commit()
    login(facilitator)

    client.post("/facilitazione/tavoli/t/fase", data={"target": "discussion"})

    rows = db.session.execute(select(Notification).order_by(Notification.user_id)).scalars().all()
    assert [r.user_id for r in rows] == [alice.id, bruno.id]
    assert {r.event for r in rows} == {"tavolo.phase_changed"}
    assert rows[0].tavolo_id == tavolo.id and rows[0].data["to"] == "discussion"


def test_buttons_show_only_the_moves_the_user_may_make(client, ambito, create_tavolo, facilitator, admin_user, login):
    create_tavolo(slug="t", phase="open", facilitators=[facilitator])
    login(facilitator)
    html = client.get("/tavoli/t/").get_data(as_text=True)
    assert "Chiudi le proposte e avvia la discussione" in html
    assert "Riporta in preparazione" not in html
    client.logout()
    login(admin_user)
    html = client.get("/tavoli/t/").get_data(as_text=True)
    assert "Chiudi le proposte e avvia la discussione" in html and "Riporta in preparazione" in html


def test_opening_a_draft_makes_it_public(client, ambito, create_tavolo, admin_user, login):
    create_tavolo(slug="nuovo", title="Tavolo nuovo", phase="draft")
    assert client.get("/tavoli/nuovo/").status_code == 404
    login(admin_user)
    client.post("/facilitazione/tavoli/nuovo/fase", data={"target": "open"})
    client.logout()
    assert client.get("/tavoli/nuovo/").status_code == 200
    assert "Tavolo nuovo" in client.get("/tavoli/").get_data(as_text=True)


def test_next_after_phase_change_stays_on_site(client, ambito, create_tavolo, admin_user, login):
    create_tavolo(slug="t", phase="draft")
    login(admin_user)
    response = client.post("/facilitazione/tavoli/t/fase", data={"target": "open", "next": "https://evil.example/"})
    assert response.headers["Location"] == "/tavoli/t/"
    response = client.post("/facilitazione/tavoli/t/fase", data={"target": "discussion", "next": "/facilitazione/"})
    assert response.headers["Location"] == "/facilitazione/"
