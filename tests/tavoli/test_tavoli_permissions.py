"""Who may open each tavoli page and facilitation route: role x phase tables."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from consulta.core.audit import AuditEvent
from consulta.extensions import db
from tests.factories import build_ambito

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


PHASES = ["draft", "open", "discussion", "closed"]


@pytest.fixture
def setting(app, scene, create_comune, create_tavolo, create_user, create_objective):
    """setting(phase): a tavolo in `phase` with a published and a draft objective, in the Ambito (a scene per
    phase); `client_for(role)` is a test client logged in as that role."""
    class Setting:
        def __init__(self, phase):
            def build():
                build_ambito(create_comune)
                facilitator = create_user(role="facilitator")
                other = create_user(role="facilitator")
                tavolo = create_tavolo(slug="t", phase=phase, facilitators=[facilitator])
                create_tavolo(slug="altro", facilitators=[other])
                ids = {"objective": create_objective(tavolo).id,
                       "draft": create_objective(tavolo, status="draft", title="Bozza").id}
                users = {"anonymous": None, "participant": create_user(), "other_facilitator": other,
                         "facilitator": facilitator, "admin": create_user(role="admin")}
                return ids, users

            self.ids, self.users = scene(f"tavoli-permissions-{phase}", build)

        def client_for(self, role):
            client = app.test_client()
            if self.users[role] is not None:
                client.login(self.users[role])
            return client
    return Setting


def _audited():
    return db.session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()


@pytest.mark.parametrize("path", PUBLIC_ROUTES)
@pytest.mark.parametrize("phase", PHASES)
def test_public_pages(setting, subtests, path, phase):
    """Reading changes nothing, so every role reads the same tavolo."""
    world = setting(phase)
    for role, row_phase, public, _facilitation in TABLE:
        if row_phase == phase:
            with subtests.test(role=role):
                assert world.client_for(role).get(path.format(**world.ids)).status_code == public


def _facilitation_cases():
    """Per route and phase: the refused roles together (a refusal changes nothing), each allowed one alone."""
    for method, path, data in FACILITATION_ROUTES:
        for phase in PHASES:
            rows = [(role, expected) for role, row_phase, _public, expected in TABLE if row_phase == phase]
            refused = tuple(row for row in rows if row[1] != "allowed")
            yield pytest.param(method, path, data, phase, refused, id=f"refused-{phase}-{method}-{path}")
            for row in rows:
                if row[1] == "allowed":
                    yield pytest.param(method, path, data, phase, (row,), id=f"{row[0]}-{phase}-{method}-{path}")


@pytest.mark.parametrize(("method", "path", "data", "phase", "outcomes"), list(_facilitation_cases()))
def test_facilitation_routes(setting, subtests, method, path, data, phase, outcomes):
    world = setting(phase)
    url = path.format(**world.ids)
    for role, facilitation in outcomes:
        if "{draft}" in path and facilitation != "allowed":
            facilitation = 404  # a draft objective does not exist for whoever may not facilitate it
        with subtests.test(role=role):
            client = world.client_for(role)
            before = _audited()
            response = client.get(url) if method == "GET" else client.post(url, data=data)
            audited = _audited() - before
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
def test_draft_objective_page_by_role(setting, role, expected):
    world = setting("open")
    assert world.client_for(role).get(f"/tavoli/t/obiettivi/{world.ids['draft']}/").status_code == expected


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
