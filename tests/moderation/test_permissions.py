"""Who may open every moderation route and every admin route: a table of role × route → outcome.

anonymous → redirect to the login page; a participant → 403 on facilitation routes; a facilitator
of another tavolo → 403 on this tavolo's items (their own queue and dashboard open, empty of ours);
this tavolo's facilitator and the admin → allowed. The admin routes under /gestione/ are walked
through app.url_map: everyone but the admin gets 403 or the login page.
"""

from __future__ import annotations

import pytest

from consulta.extensions import db
from tests.moderation.conftest import make_people, make_post_tavolo, make_pre_tavolo

ROLES = ["anonymous", "participant", "other_facilitator", "facilitator", "admin"]
LOGIN = "login"
ACTOR = {"participant": "reader"}


@pytest.fixture
def world(scene, create_user, create_organisation, create_tavolo, create_proposal, create_comment, create_flag):
    """One item in the right state for each route, in the facilitator's tavoli: what waits for approval in
    the pre-moderated one, everything else in the post-moderated one. Returns (people, {name: id})."""

    def build():
        people = make_people(create_user, create_organisation)
        post_tavolo, pre_tavolo = make_post_tavolo(create_tavolo, people), make_pre_tavolo(create_tavolo, people)

        def proposal(tavolo, **kwargs):
            return create_proposal(tavolo, people.author, **kwargs)

        pending = proposal(pre_tavolo, title="In attesa", state="submitted")
        published = proposal(post_tavolo, title="Pubblicata")
        hidden = proposal(post_tavolo, title="Nascosta", visibility="hidden", hide_reason="spam")
        flagged = proposal(post_tavolo, title="Segnalata")
        create_flag(flagged, people.representative)
        comment = create_comment(published, people.author, body="Un commento")
        pending_comment = create_comment(proposal(pre_tavolo, title="Pubblicata dal facilitatore"), people.author,
                                         body="In attesa", visibility="pending")
        hidden_comment = create_comment(published, people.author, body="Nascosto", visibility="hidden")
        flagged_comment = create_comment(published, people.author, body="Segnalato")
        create_flag(flagged_comment, people.representative)
        return people, {
            "slug": post_tavolo.slug, "pending": pending.id, "published": published.id, "hidden": hidden.id,
            "flagged": flagged.id, "comment": comment.id, "pending_comment": pending_comment.id,
            "hidden_comment": hidden_comment.id, "flagged_comment": flagged_comment.id,
        }

    return scene("moderation-routes", build)


FACILITATORS = {"anonymous": LOGIN, "participant": 403, "other_facilitator": 403}
AREA = {"anonymous": LOGIN, "participant": 403}  # the facilitation area itself: any facilitator enters
PARTICIPANTS = {"anonymous": LOGIN}
PUBLIC = {}

OFFLINE = {"channel": "meeting", "presenter": "citizen", "author_name": "Ada", "title": "Registrata", "body": "Testo"}

# (method, url, form data, refusals by role, success status for everyone else)
MODERATION_ROUTES = [
    ("GET", "/facilitazione/", None, AREA, 200),
    ("GET", "/facilitazione/moderazione/", None, AREA, 200),
    ("GET", "/facilitazione/moderazione/{slug}/", None, FACILITATORS, 200),
    ("POST", "/facilitazione/moderazione/azioni", {"items": "p-{pending}", "bulk_action": "approve"}, AREA | {
        "other_facilitator": 403}, 302),
    ("POST", "/facilitazione/moderazione/proposte/{pending}/approva", {}, FACILITATORS, 302),
    ("GET", "/facilitazione/moderazione/proposte/{published}/nascondi", None, FACILITATORS, 200),
    ("POST", "/facilitazione/moderazione/proposte/{published}/nascondi", {"reason": "spam"}, FACILITATORS, 302),
    ("POST", "/facilitazione/moderazione/proposte/{hidden}/ripristina", {}, FACILITATORS, 302),
    ("POST", "/facilitazione/moderazione/proposte/{flagged}/mantieni", {}, FACILITATORS, 302),
    ("POST", "/facilitazione/moderazione/commenti/{pending_comment}/approva", {}, FACILITATORS, 302),
    ("GET", "/facilitazione/moderazione/commenti/{comment}/nascondi", None, FACILITATORS, 200),
    ("POST", "/facilitazione/moderazione/commenti/{comment}/nascondi", {"reason": "offensive"}, FACILITATORS, 302),
    ("POST", "/facilitazione/moderazione/commenti/{hidden_comment}/ripristina", {}, FACILITATORS, 302),
    ("POST", "/facilitazione/moderazione/commenti/{flagged_comment}/mantieni", {}, FACILITATORS, 302),
    ("POST", "/facilitazione/proposte/{published}/valutazione", {}, FACILITATORS, 302),
    ("GET", "/facilitazione/proposte/{published}/risposta", None, FACILITATORS, 200),
    ("POST", "/facilitazione/proposte/{published}/risposta", {"outcome": "approved", "motivation": "Sì"},
     FACILITATORS, 302),
    ("GET", "/facilitazione/tavoli/{slug}/proposte/registra", None, FACILITATORS, 200),
    ("POST", "/facilitazione/tavoli/{slug}/proposte/registra", OFFLINE, FACILITATORS, 302),
    ("GET", "/proposte/{published}/segnala", None, PARTICIPANTS, 200),
    ("POST", "/proposte/{published}/segnala", {"reason": "spam"}, PARTICIPANTS, 302),
    ("GET", "/commenti/{comment}/segnala", None, PARTICIPANTS, 200),
    ("POST", "/commenti/{comment}/segnala", {"reason": "spam"}, PARTICIPANTS, 302),
    ("GET", "/tavoli/{slug}/registro-moderazione", None, PUBLIC, 200),
]
# Endpoints the table above must cover, so a new moderation route cannot slip in untested.
MODERATION_ENDPOINTS = {"tavoli.facilitation_home", "proposals.review", "proposals.answer",
                        "proposals.record_offline"}


def _grouped(refusals, ok):
    """One case for every role that is refused (a refusal changes nothing, so they share one world), and one
    for each role that is allowed (an allowed act changes the world, so each gets its own)."""
    refused = tuple((role, refusals[role]) for role in ROLES if role in refusals)
    allowed = [((role, ok),) for role in ROLES if role not in refusals]
    return ([("refused", refused)] if refused else []) + [(outcomes[0][0], outcomes) for outcomes in allowed]


MODERATION_TABLE = [
    pytest.param(method, url, data, outcomes, id=f"{name}-{method}-{url}")
    for method, url, data, refusals, ok in MODERATION_ROUTES for name, outcomes in _grouped(refusals, ok)
]


def _login(client, people, role):
    user = people.get(ACTOR.get(role, role))
    if user is not None:
        client.login(user)
    return user


def _fill(data, values):
    if data is None:
        return None
    return {key: value.format(**values) if isinstance(value, str) else value for key, value in data.items()}


def _assert_outcome(response, expected, label):
    if expected == LOGIN:
        assert response.status_code == 302, label
        assert response.headers["Location"].startswith("/accedi"), label
    else:
        assert response.status_code == expected, f"{label}: {response.status_code}"


@pytest.mark.parametrize("method, url, data, outcomes", MODERATION_TABLE)
def test_moderation_routes(app, world, audit_count, subtests, method, url, data, outcomes):
    people, world = world
    target = url.format(**world)
    for role, expected in outcomes:
        with subtests.test(role=role):
            client = app.test_client()
            _login(client, people, role)
            before = audit_count()

            response = client.open(target, method=method, data=_fill(data, world))

            _assert_outcome(response, expected, f"{role} {method} {target}")
            if method == "POST" and expected in (LOGIN, 403):
                assert audit_count() == before  # a refused act writes nothing


def test_the_table_covers_every_moderation_route(app):
    """A moderation route added later without a row here fails this test."""
    adapter = app.url_map.bind("localhost")
    sample = {key: "anziani" if key == "slug" else "1" for key in (
        "slug", "pending", "published", "hidden", "flagged", "comment", "pending_comment", "hidden_comment",
        "flagged_comment")}
    covered = {(method, adapter.match(url.format(**sample), method=method)[0])
               for method, url, *_rest in MODERATION_ROUTES}
    routes = {(method, rule.endpoint) for rule in app.url_map.iter_rules()
              if rule.endpoint.startswith("moderation.") or rule.endpoint in MODERATION_ENDPOINTS
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes - covered == set()


# --------------------------------------------------------------------------- admin routes, from the url_map

@pytest.fixture
def admin_world(scene, create_user, create_organisation, create_tavolo):
    """Returns (people, {url argument: id})."""
    from consulta.digests.models import OutboxEmail
    from consulta.organisations.models import Membership

    def build():
        people = make_people(create_user, create_organisation)
        post_tavolo = make_post_tavolo(create_tavolo, people)
        org = create_organisation(name="Da verificare", status="pending")
        joiner = create_user(email="socio@example.org")
        membership = Membership(user_id=joiner.id, organisation_id=people.organisation.id)
        db.session.add(membership)
        target = create_user(email="bersaglio@example.org")
        row = OutboxEmail(recipient_id=target.id, period_key="daily:2026-01-01", to_address=target.email,
                          subject="Riepilogo", body_text="Testo", body_html="<p>Testo</p>")
        db.session.add(row)
        db.session.commit()
        return people, {
            "plan_id": post_tavolo.plan_id, "slug": post_tavolo.slug, "organisation_id": org.id,
            "membership_id": membership.id, "user_id": target.id, "row_id": row.id,
        }

    return scene("admin-routes", build)


def _admin_rules():
    from consulta import create_app

    app = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")
    return sorted({(method, rule.rule) for rule in app.url_map.iter_rules() if rule.rule.startswith("/gestione/")
                   for method in rule.methods - {"HEAD", "OPTIONS"}})


ADMIN_REFUSALS = {"anonymous": LOGIN, "participant": 403, "other_facilitator": 403, "facilitator": 403}
ADMIN_TABLE = [pytest.param(method, rule, outcomes, id=f"{name}-{method}-{rule}")
               for method, rule in _admin_rules() for name, outcomes in _grouped(ADMIN_REFUSALS, "allowed")]


@pytest.mark.parametrize("method, rule, outcomes", ADMIN_TABLE)
def test_admin_routes(app, admin_world, audit_count, subtests, method, rule, outcomes):
    import re

    people, admin_world = admin_world
    url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(admin_world.get(m.group(1), 999_999)), rule)
    for role, expected in outcomes:
        with subtests.test(role=role):
            client = app.test_client()
            _login(client, people, role)
            before = audit_count()

            response = client.open(url, method=method, data={} if method == "POST" else None)

            if expected == "allowed":
                assert response.status_code < 500 and response.status_code != 403, f"{method} {url}"
                assert not response.headers.get("Location", "").startswith("/accedi")
            else:
                _assert_outcome(response, expected, f"{role} {method} {url}")
                assert audit_count() == before  # a refused act writes nothing
