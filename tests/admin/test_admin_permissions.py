"""Who may open each admin and organisation route: a table of role × route → outcome.

anonymous → redirect to login; unverified, participant, facilitator (and a blocked
admin) → 403 on admin routes; admin → allowed. Refused acts change nothing.
"""

from __future__ import annotations

import pytest

from consulta.extensions import db
from consulta.organisations.models import Membership
from tests.organisations.helpers import OTHER_BODY_TAX_CODE, audit_actions

ROLES = ["anonymous", "unverified", "participant", "facilitator", "blocked_admin", "admin"]
LOGIN = "login"


@pytest.fixture
def world(request, scene, create_user, create_organisation):
    """Something to act on for every route (a scene: built once, inserted again)."""

    def build():
        # The organisations' fixtures (tests/organisations/fixtures.py) write: they run here, the first time only.
        pending_request = request.getfixturevalue("pending_request")
        request_form = request.getfixturevalue("request_form")
        verified = create_organisation(name="Cooperativa Verificata")
        joiner = create_user(email="socio@example.org")
        join = Membership(user_id=joiner.id, organisation_id=verified.id)
        db.session.add(join)
        db.session.commit()
        return {
            "pending": pending_request(),
            "verified": verified,
            "join": join,
            "target": create_user(email="bersaglio@example.org"),
            "blocked": create_user(email="bloccato@example.org", blocked_reason="Spam"),
            "form": request_form(tax_code=OTHER_BODY_TAX_CODE),
        }

    return scene("admin-permissions", build)


def actor_for(role, create_user):
    return {
        "anonymous": lambda: None,
        "unverified": lambda: create_user(email="nonverificato@example.org", verified=False),
        "participant": lambda: create_user(email="partecipante@example.org"),
        "facilitator": lambda: create_user(email="facilitatore@example.org", role="facilitator"),
        "blocked_admin": lambda: create_user(email="adminbloccato@example.org", role="admin",
                                             blocked_reason="Sospeso"),
        "admin": lambda: create_user(email="capo@example.org", role="admin"),
    }[role]()


# (method, url template, data, {role: expected}); "ok" is the admin's success status.
ADMIN_ROUTES = [
    ("GET", "/gestione/", None, 200),
    ("GET", "/gestione/organizzazioni/", None, 200),
    ("GET", "/gestione/organizzazioni/elenco", None, 200),
    ("GET", "/gestione/organizzazioni/{pending}/", None, 200),
    ("POST", "/gestione/organizzazioni/{pending}/verifica", {}, 302),
    ("POST", "/gestione/organizzazioni/{pending}/rifiuta", {"reason": "Dati non verificabili"}, 302),
    ("GET", "/gestione/adesioni/{join}/", None, 200),
    ("POST", "/gestione/adesioni/{join}/accetta", {}, 302),
    ("POST", "/gestione/adesioni/{join}/rifiuta", {"reason": "Non è socio"}, 302),
    ("GET", "/gestione/utenti/", None, 200),
    ("GET", "/gestione/utenti/{target}/", None, 200),
    ("POST", "/gestione/utenti/{target}/ruolo", {"role": "facilitator"}, 302),
    ("POST", "/gestione/utenti/{target}/blocca", {"reason": "Spam"}, 302),
    ("POST", "/gestione/utenti/{blocked}/sblocca", {}, 302),
    ("GET", "/gestione/registro/", None, 200),
]

ADMIN_TABLE = [
    pytest.param(method, url, data, role,
                 ok if role == "admin" else (LOGIN if role == "anonymous" else 403),
                 id=f"{role}-{method}-{url}")
    for method, url, data, ok in ADMIN_ROUTES for role in ROLES
]

# Organisation routes: expected outcome per role.
NEEDS_VERIFIED_LOGIN = {"anonymous": LOGIN, "unverified": 403, "blocked_admin": 403}
ORGANISATION_TABLE_ROWS = [
    ("GET", "/organizzazioni/", None, dict.fromkeys(ROLES, 200)),
    ("GET", "/organizzazioni/{verified}/", None, dict.fromkeys(ROLES, 200)),
    # A blocked admin has no admin power (core.permissions.may_act): a pending request stays hidden.
    ("GET", "/organizzazioni/{pending}/", None, {**dict.fromkeys(ROLES, 404), "admin": 200}),
    ("GET", "/organizzazioni/richiesta", None, {**dict.fromkeys(ROLES, 200), **NEEDS_VERIFIED_LOGIN}),
    ("POST", "/organizzazioni/richiesta", "form", {**dict.fromkeys(ROLES, 302), **NEEDS_VERIFIED_LOGIN}),
    ("GET", "/organizzazioni/adesione", None, {**dict.fromkeys(ROLES, 200), **NEEDS_VERIFIED_LOGIN}),
    ("POST", "/organizzazioni/{verified}/adesione", {}, {**dict.fromkeys(ROLES, 302), **NEEDS_VERIFIED_LOGIN}),
]
ORGANISATION_TABLE = [
    pytest.param(method, url, data, role, expected[role], id=f"{role}-{method}-{url}")
    for method, url, data, expected in ORGANISATION_TABLE_ROWS for role in ROLES
]


def _request(client, method, url, data, world):
    url = url.format(**{key: getattr(value, "id", None) for key, value in world.items() if key != "form"})
    if method == "GET":
        return client.get(url)
    return client.post(url, data=world["form"] if data == "form" else data)


def _check(response, expected):
    if expected == LOGIN:
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/accedi")
    else:
        assert response.status_code == expected, response.get_data(as_text=True)[:500]


@pytest.mark.parametrize(("method", "url", "data", "role", "expected"), ADMIN_TABLE)
def test_admin_routes(client, create_user, world, method, url, data, role, expected):
    actor = actor_for(role, create_user)
    if actor is not None:
        client.login(actor)
    response = _request(client, method, url, data, world)
    _check(response, expected)
    if expected in (LOGIN, 403):
        assert audit_actions() == []  # a refused act leaves no trace and changes nothing


@pytest.mark.parametrize(("method", "url", "data", "role", "expected"), ORGANISATION_TABLE)
def test_organisation_routes(client, create_user, world, method, url, data, role, expected):
    actor = actor_for(role, create_user)
    if actor is not None:
        client.login(actor)
    response = _request(client, method, url, data, world)
    _check(response, expected)
    if expected in (LOGIN, 403, 404):
        assert audit_actions() == []
