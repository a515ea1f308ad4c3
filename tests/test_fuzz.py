"""Hostile input at every route: walk `app.url_map` and send each route, for each method it accepts,
a fixed set of malformed inputs, as an anonymous visitor and as a logged-in admin (POSTs carry a valid
CSRF token, so they reach the views). No answer may be a 5xx (issue 11, item 1).

URL arguments are filled with the ids of a small real world built by the factories, and with malformed
values (NUL, ids ≥ 2³¹, 20-digit numbers, negative ids, odd unicode, invalid UTF-8). Form bodies set every
field name any form of the application knows to the same malformed value (a number beyond 64 bits, one
beyond PostgreSQL's INTEGER, a file instead of text, duplicated values); query strings repeat every known
parameter with malformed values. What is refused before any view (a NUL, an id beyond INTEGER in the path,
a JSON body, 20 MB) is sent once per route and method; a route that sends an anonymous visitor to the login
page is probed further only as admin. About 2,100 requests per backend (874 anonymous, 1,224 as admin).
"""

from __future__ import annotations

import io
import logging
from datetime import timedelta
from decimal import Decimal
from urllib.parse import quote, urlencode

import pytest
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.routing import IntegerConverter
from wtforms.fields.core import UnboundField

from consulta.extensions import db
from consulta.plan import record_operations as record_ops

NUL = "\x00"
HUGE = "99999999999999999999"
OVER = str(2**31)
ODD = "È\u202e😀\ufeff\u0301ǅ"
# Only one real answer is asked of these (documents are slow to render); the malformed ones stay.
TWENTY_MB = b"a=" + b"x" * (20 * 1024 * 1024)
SLOW = {"plan.pdf", "plan.odt", "meetings.minutes_pdf", "meetings.minutes_odt"}
# Endpoints that would end the admin's session half-way through the walk.
SESSION_ENDERS = {"accounts.logout"}


def _form_classes(base=FlaskForm):
    for cls in base.__subclasses__():
        yield cls
        yield from _form_classes(cls)


def field_names() -> list[str]:
    names = {"csrf_token", "q", "page", "pagina", "per_page", "next", "tavolo", "stato", "ruolo", "tipo",
             # the decision form is built per verbale
             "subject", "outcome", "method", "votes_for", "votes_against", "votes_abstained", "motivation",
             "confirm_outcome", "outcome_note"}
    for cls in _form_classes():
        for name in dir(cls):
            if isinstance(getattr(cls, name, None), UnboundField):
                names.add(name)
    names.discard("csrf_token")
    return sorted(names)


@pytest.fixture
def world(app, ambito, admin_user, create_user, create_plan, create_tavolo, create_objective, create_proposal,
          create_comment, create_seat, create_meeting, create_minutes, create_follow, create_organisation):
    """Real objects for every kind of id a URL takes; returns {argument name: value}."""
    from consulta.core.notify import Notification
    from consulta.digests.models import OutboxEmail
    from consulta.organisations.models import Membership
    from consulta.tavoli.models import Follow

    plan = create_plan(status="consulting")
    tavolo = create_tavolo(plan=plan, slug="anziani", phase="discussion", facilitators=[admin_user])
    citizen = create_user(email="carla@example.org", display_name="Carla Cittadina")
    objective = create_objective(tavolo)
    proposal = create_proposal(tavolo, citizen, title="Un centro diurno")
    comment = create_comment(proposal, citizen)
    seat = create_seat(tavolo)
    create_organisation(name="In attesa", status="pending")
    pending_org = create_organisation(name="Da verificare", status="pending")
    meeting = create_meeting(tavolo, starts_in=-timedelta(days=2), status="held", by=admin_user)
    minutes = create_minutes(meeting, seats=[seat], externals=[("Ospite", "Assistente sociale")],
                             decisions=[(proposal, "approved")], by=admin_user)
    create_follow(admin_user, tavolo=tavolo, proposal=proposal)
    area = record_ops.create_area(plan, admin_user, title="Anziani", description="", tavoli=[tavolo])
    plan_objective = record_ops.create_objective(area, admin_user, title="Domiciliarità", description="Testo.")
    action = record_ops.create_action(plan_objective, admin_user, record_ops.ActionFields(
        title="Centro diurno", description="Un servizio.", beneficiaries="Anziani", responsible_body="Comune",
        start_date=None, end_date=None, all_comuni=True, comuni=[]))
    line = record_ops.add_budget_line(action, admin_user, amount=Decimal("1000.00"), funding_source="fnps",
                                      year=2025)
    indicator = record_ops.add_indicator(action, admin_user, name="Utenti", unit="persone", baseline=None,
                                         target=Decimal("30"))
    db.session.commit()

    def first(model, *where):
        found = db.session.execute(select(model.id).where(*where).order_by(model.id).limit(1)).scalar()
        return found or 1

    membership = first(Membership, Membership.organisation_id == seat.organisation.id)
    return {
        "plan_id": plan.id, "slug": tavolo.slug, "objective_id": objective.id, "proposal_id": proposal.id,
        "comment_id": comment.id, "member_id": seat.member.id, "meeting_id": meeting.id, "minutes_id": minutes.id,
        "decision_id": minutes.decisions[0].id, "attendance_id": minutes.attendance[0].id,
        "organisation_id": pending_org.id, "membership_id": membership, "user_id": citizen.id,
        "area_id": area.id, "action_id": action.id, "line_id": line.id, "indicator_id": indicator.id,
        "input_id": 1, "item_id": proposal.id, "kind": "proposta",
        "notification_id": first(Notification, Notification.user_id == admin_user.id),
        "follow_id": first(Follow, Follow.user_id == admin_user.id),
        "row_id": first(OutboxEmail), "name": "azioni", "code": "en", "token": "x.y.z",
        "filename": "css/consulta.css", "_admin": admin_user,
    }


def _real_values(rule, world) -> dict[str, object]:
    values = {}
    for arg in rule.arguments:
        if arg == "item_id" and rule.endpoint == "plan.history":
            values[arg] = world["action_id"]
        elif arg == "objective_id" and rule.endpoint.startswith("plan_record."):
            values[arg] = 1
        elif arg == "kind" and rule.endpoint == "plan.history":
            values[arg] = "azione"
        else:
            values[arg] = world.get(arg, 1)
    return values


def _path_variants(app, rule, values, *, early: bool) -> list[str]:
    """The rule's URL with an argument replaced by a malformed value (quoted as a client sends it).

    `<int:…>` arguments are refused by the router and a NUL by the request guard, before any view and
    whoever asks (`early`: sent once, anonymously); other malformed strings reach the views."""
    adapter = app.url_map.bind("localhost")
    urls = []
    for n, arg in enumerate(rule.arguments):
        integer = isinstance(rule._converters[arg], IntegerConverter)
        if integer:
            bad = [(OVER, HUGE, "-1")[n % 3]] if early else []
        else:
            bad = [quote(NUL)] if early else [quote(ODD) + "x" * 300 + "%FF", OVER]
        marker = 1987654321 if integer else f"__{arg}__"
        url = adapter.build(rule.endpoint, {**values, arg: marker})
        urls += [url.replace(str(marker), value) for value in bad]
    return urls


NUMERIC = {"page", "pagina", "per_page", "pagina_adesioni", "obiettivo", "oggetto_id"}


def _query_variants(names, *, early: bool) -> list[str]:
    """A NUL (refused by the guard before any view), or every known parameter twice: a huge number or odd
    unicode first, then a negative or out-of-range one, and invalid UTF-8."""
    if early:
        return ["?" + urlencode({"q": NUL, "pagina": "1"})]
    pairs = [(n, v) for n in names for v in ((HUGE, "-1") if n in NUMERIC else (ODD, OVER))]
    return ["?" + urlencode(pairs) + "&page=0&pagina=%FF%FE"]


def _post_cases(client, names, *, early: bool) -> list[dict]:
    """Malformed bodies: refused before any view (NUL, a JSON body without a form token, 20 MB), or
    reaching the views with a valid CSRF token and every known field set to a malformed value."""
    token = client.csrf_token()

    def every(value):
        return {**{n: value for n in names}, "csrf_token": token}

    if early:
        return [
            {"data": every("a" + NUL + "b")},
            {"data": '{"title": "x"}', "content_type": "application/json"},
            {"data": TWENTY_MB, "content_type": "application/x-www-form-urlencoded"},
        ]
    files = {n: (io.BytesIO(b"testo inviato come file"), "nota.txt") for n in names}
    files["csrf_token"] = token
    duplicated = MultiDict([(n, v) for n in names for v in (ODD, "1")] + [("csrf_token", token)])
    return [
        {"data": every(HUGE)},  # beyond 64 bits (SQLite cannot bind it)
        {"data": every(OVER)},  # beyond PostgreSQL's INTEGER
        {"data": files, "content_type": "multipart/form-data"},  # text sent as files
        {"data": duplicated},  # odd unicode, then a plausible id
    ]


class _Errors(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.records: list[str] = []

    def emit(self, record):
        if record.exc_info:
            self.records.append(f"{record.exc_info[0].__name__}: {record.exc_info[1]}"[:300])


@pytest.mark.parametrize("who", ["anonymous", "admin"])
def test_no_malformed_request_gets_a_server_error(app, client, world, who, monkeypatch):
    monkeypatch.setitem(app.config, "PROPAGATE_TEST_ERRORS", False)
    errors = _Errors()
    app.logger.addHandler(errors)
    names = field_names()
    if who == "admin":
        client.login(world["_admin"])
    failures = []
    sent = 0

    def send(method, url, **kwargs):
        nonlocal sent
        sent += 1
        before = len(errors.records)
        response = client.open(url, method=method, **kwargs)
        response.close()
        if response.status_code >= 500:
            why = errors.records[before:] or ["(no exception logged)"]
            failures.append(f"{method} {url[:120]} {kwargs.get('content_type', '')} -> "
                            f"{response.status_code}: {why[-1]}")
        return response

    try:
        rules = sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint))
        adapter = app.url_map.bind("localhost")
        for rule in rules:
            if who == "admin" and rule.endpoint in SESSION_ENDERS:
                continue
            values = _real_values(rule, world)
            real = adapter.build(rule.endpoint, values)
            methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
            # What the router and the request guard refuse before any view (a NUL, an id beyond INTEGER,
            # a JSON body without the form's token, 20 MB): one case of each, for each method.
            for url in _path_variants(app, rule, values, early=True):
                send(methods[0], url)
            for method in methods:
                if method == "GET":
                    send("GET", real + _query_variants(names, early=True)[0])
                else:
                    for case in _post_cases(client, names, early=True):
                        send(method, real, **case)
            if who == "anonymous":
                # A route that sends a visitor to the login page refuses before reading the input: the
                # admin's walk reaches its view. Public routes get the malformed inputs here too.
                plain = send(methods[0], real, **({} if methods[0] == "GET" else {"data": {}}))
                if plain.status_code == 302 and "/accedi" in plain.headers.get("Location", ""):
                    continue
            for url in _path_variants(app, rule, values, early=False):
                send(methods[0], url)
            for method in methods:
                if method == "GET":
                    send("GET", real)
                    if rule.endpoint not in SLOW:
                        send("GET", real + _query_variants(names, early=False)[0])
                else:
                    for case in _post_cases(client, names, early=False):
                        send(method, real, **case)
            if who == "admin" and "POST" in methods and rule.endpoint.startswith(("admin.", "accounts.")):
                client.login(world["_admin"])  # in case a POST ended the session (a role change, a block)
    finally:
        app.logger.removeHandler(errors)
    assert sent > 400
    assert failures == [], f"{len(failures)} answers >= 500 out of {sent}:\n" + "\n".join(failures)
