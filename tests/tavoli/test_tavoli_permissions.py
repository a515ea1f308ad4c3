"""Who may open each tavoli page and facilitation route: role x phase tables."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from consulta.core.audit import AuditEvent
from consulta.extensions import db

ROLES = ["anonymous", "participant", "other_facilitator", "facilitator", "admin"]

# role, phase -> (public pages, facilitation routes)
TABLE = [
    ("anonymous", "draft", 404, 404),
    ("anonymous", "open", 200, "login"),
    ("anonymous", "discussion", 200, "login"),
    ("anonymous", "closed", 200, "login"),
    ("participant", "draft", 404, 404),
    ("participant", "open", 200, 403),
    ("participant", "discussion", 200, 403),
    ("participant", "closed", 200, 403),
    ("other_facilitator", "draft", 404, 404),
    ("other_facilitator", "open", 200, 403),
    ("other_facilitator", "discussion", 200, 403),
    ("other_facilitator", "closed", 200, 403),
    ("facilitator", "draft", 200, "allowed"),
    ("facilitator", "open", 200, "allowed"),
    ("facilitator", "discussion", 200, "allowed"),
    ("facilitator", "closed", 200, "allowed"),
    ("admin", "draft", 200, "allowed"),
    ("admin", "open", 200, "allowed"),
    ("admin", "discussion", 200, "allowed"),
    ("admin", "closed", 200, "allowed"),
]

PUBLIC_ROUTES = [
    "/tavoli/t/",
    "/tavoli/t/obiettivi/{objective}/",
    "/tavoli/t/obiettivi/{objective}/revisioni?da=1&a=1",
]

FACILITATION_ROUTES = [
    ("GET", "/facilitazione/tavoli/t/obiettivi/nuovo", {}),
    ("POST", "/facilitazione/tavoli/t/obiettivi/nuovo", {"title": "Nuovo", "body": "Testo"}),
    ("GET", "/facilitazione/tavoli/t/obiettivi/{objective}/modifica", {}),
    ("POST", "/facilitazione/tavoli/t/obiettivi/{objective}/modifica", {"title": "Nuovo titolo", "body": "Testo"}),
    ("POST", "/facilitazione/tavoli/t/obiettivi/{draft}/stato", {"target": "published"}),
    ("POST", "/facilitazione/tavoli/t/obiettivi/{objective}/stato", {"target": "approved"}),
]


@pytest.fixture
def setting(create_tavolo, create_user, create_objective, login):
    """Build a tavolo in `phase` with a published and a draft objective, and log in as `role`."""
    def build(role, phase):
        facilitator = create_user(role="facilitator")
        other = create_user(role="facilitator")
        tavolo = create_tavolo(slug="t", phase=phase, facilitators=[facilitator])
        create_tavolo(slug="altro", facilitators=[other])
        objective = create_objective(tavolo)
        draft = create_objective(tavolo, status="draft", title="Bozza")
        user = {"anonymous": None, "participant": create_user(), "other_facilitator": other,
                "facilitator": facilitator, "admin": create_user(role="admin")}[role]
        if user is not None:
            login(user)
        return {"objective": objective.id, "draft": draft.id}
    return build


@pytest.mark.parametrize("path", PUBLIC_ROUTES)
@pytest.mark.parametrize(("role", "phase", "public", "_facilitation"), TABLE)
def test_public_pages(client, ambito, setting, path, role, phase, public, _facilitation):
    ids = setting(role, phase)
    assert client.get(path.format(**ids)).status_code == public


@pytest.mark.parametrize(("method", "path", "data"), FACILITATION_ROUTES)
@pytest.mark.parametrize(("role", "phase", "_public", "facilitation"), TABLE)
def test_facilitation_routes(client, ambito, setting, method, path, data, role, phase, _public, facilitation):
    ids = setting(role, phase)
    url = path.format(**ids)
    if "{draft}" in path and facilitation != "allowed":
        facilitation = 404  # a draft objective does not exist for whoever may not facilitate it
    before = db.session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    response = client.get(url) if method == "GET" else client.post(url, data=data)
    audited = db.session.execute(select(func.count()).select_from(AuditEvent)).scalar_one() - before
    if facilitation == "allowed":
        assert response.status_code == (200 if method == "GET" else 302)
        assert audited == (0 if method == "GET" else 1)
    elif facilitation == "login":
        assert response.status_code == 302 and "/accedi" in response.headers["Location"]
        assert audited == 0
    else:
        assert response.status_code == facilitation
        assert audited == 0


@pytest.mark.parametrize(("role", "expected"), [
    ("anonymous", 404), ("participant", 404), ("other_facilitator", 404), ("facilitator", 200), ("admin", 200),
])
def test_draft_objective_page_by_role(client, ambito, setting, role, expected):
    ids = setting(role, "open")
    assert client.get(f"/tavoli/t/obiettivi/{ids['draft']}/").status_code == expected


@pytest.mark.parametrize(("role", "expected"), [
    ("anonymous", "login"),
    ("participant", 403),
    ("blocked_facilitator", 403),
    ("facilitator", 200),
    ("admin", 200),
])
def test_facilitation_home_by_role(client, ambito, create_user, login, role, expected):
    user = {"anonymous": None, "participant": create_user(),
            "blocked_facilitator": create_user(role="facilitator", blocked_reason="Sospeso"),
            "facilitator": create_user(role="facilitator"), "admin": create_user(role="admin")}[role]
    if user is not None:
        login(user)
    response = client.get("/facilitazione/")
    if expected == "login":
        assert response.status_code == 302 and "/accedi" in response.headers["Location"]
    else:
        assert response.status_code == expected
