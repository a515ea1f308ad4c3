"""The scene of the plan tests: a plan edition, tavoli in discussion, approved minutes and their
decisions (through the factories), plan areas and actions made by the plan-record operations."""

from __future__ import annotations

from decimal import Decimal

import pytest

from consulta.extensions import db
from tests.factories import build_admin, build_ambito

# The scene's parts, in the order they are built; a test gets those it asks for (directly or through
# another fixture), built once per worker and database (tests/conftest.py `scene`) and inserted again later.
SCENE_PARTS = ("ambito", "facilitator", "admin_user", "plan", "table", "stage")
NEEDS = {"stage": {"table", "facilitator", "admin_user"}, "table": {"facilitator"}}  # stage first: it needs table


def _asked(request) -> tuple[str, ...]:
    """The scene's parts this test uses; none if it uses neither plan, table nor stage (then `ambito` and
    `admin_user` are the factories' own)."""
    names = set(request.fixturenames)
    if names.isdisjoint({"plan", "table", "stage"}):
        return ()
    for part, needs in NEEDS.items():
        if part in names:
            names |= needs
    return tuple(part for part in SCENE_PARTS if part in names)


@pytest.fixture
def plan_scene(request, scene, create_comune, create_user, create_plan, create_tavolo, create_organisation,
               create_proposal, create_vote, approve_decisions, create_area):
    parts = _asked(request)

    def build():
        built = {"ambito": build_ambito(create_comune)}
        if "facilitator" in parts:
            built["facilitator"] = create_user(email="fabio@example.org", display_name="Fabio Facilitatore",
                                               role="facilitator")
        if "admin_user" in parts:
            built["admin_user"] = build_admin(create_user)
        built["plan"] = create_plan(title="Piano Sociale di Zona 2025–2027", status="consulting")
        if "table" in parts:
            built["table"] = create_tavolo(plan=built["plan"], slug="anziani", title="Anziani e non autosufficienza",
                                           facilitators=[built["facilitator"]], phase="discussion")
        if "stage" in parts:
            built["stage"] = _stage(built, create_user, create_organisation, create_proposal, create_vote,
                                    approve_decisions, create_area)
        return built

    return scene("plan:" + ",".join(parts), build)


@pytest.fixture
def ambito(request, create_comune):
    return request.getfixturevalue("plan_scene")["ambito"] if _asked(request) else build_ambito(create_comune)


@pytest.fixture
def admin_user(request, create_user):
    return request.getfixturevalue("plan_scene")["admin_user"] if _asked(request) else build_admin(create_user)


@pytest.fixture
def facilitator(request, create_user):
    if _asked(request):
        return request.getfixturevalue("plan_scene")["facilitator"]
    return create_user(email="fabio@example.org", display_name="Fabio Facilitatore", role="facilitator")


@pytest.fixture
def plan(plan_scene):
    return plan_scene["plan"]


@pytest.fixture
def table(plan_scene):
    return plan_scene["table"]


@pytest.fixture
def other_facilitator(request, create_user):
    if _asked(request):
        request.getfixturevalue("plan_scene")  # the scene is the test's first write
    return create_user(email="olga@example.org", display_name="Olga Altrotavolo", role="facilitator")


@pytest.fixture
def other_table(plan, create_tavolo, other_facilitator):
    return create_tavolo(plan=plan, slug="poverta", title="Povertà e inclusione", facilitators=[other_facilitator],
                         phase="discussion")


@pytest.fixture
def create_area(app):
    """A plan area linked to tavoli, through the real operation (as the admin)."""
    from consulta.plan import record_operations as ops

    def factory(plan, admin, *, title="Anziani e non autosufficienza", tavoli=()):
        area = ops.create_area(plan, admin, title=title, description="", tavoli=list(tavoli))
        db.session.commit()
        return area

    return factory


@pytest.fixture
def build_action(app):
    """An objective (if none given) and an action with budget lines, through the real operations."""
    from consulta.plan import record_operations as ops

    def factory(area, actor, *, objective=None, title="Centro diurno Alzheimer", budget=(("1000.00", "fnps", 2025),),
                decisions=(), objective_decisions=(), comuni=None):
        if objective is None:
            objective = ops.create_objective(area, actor, title=f"Obiettivo di {title}", description="Testo.",
                                             decisions=list(objective_decisions))
        action = ops.create_action(objective, actor, ops.ActionFields(
            title=title, description="Un servizio **nuovo**.", beneficiaries="Anziani", responsible_body="Comune",
            start_date=None, end_date=None, all_comuni=comuni is None, comuni=list(comuni or [])),
            decisions=list(decisions))
        for amount, source, year in budget:
            ops.add_budget_line(action, actor, amount=Decimal(amount), funding_source=source, year=year)
        db.session.commit()
        return action

    return factory


@pytest.fixture
def stage(plan_scene):
    """A tavolo with two approved proposals (one partially), one rejected, in approved minutes; an area."""
    return plan_scene["stage"]


def _stage(built, create_user, create_organisation, create_proposal, create_vote, approve_decisions, create_area):
    plan, table, facilitator, admin_user = built["plan"], built["table"], built["facilitator"], built["admin_user"]
    auser = create_organisation(name="Auser Narni", type="volunteer")
    cgil = create_organisation(name="CGIL Terni", type="union")
    author = create_user(email="anna@example.org", display_name="Anna Autrice", organisation=auser)
    citizen = create_user(email="carla@example.org", display_name="Carla Cittadina")
    centro = create_proposal(table, author, title="Centro diurno a Narni", organisation=auser)
    trasporto = create_proposal(table, citizen, title="Trasporto sociale serale")
    bocciata = create_proposal(table, citizen, title="Piscina comunale")
    create_vote(centro, citizen, "for")
    create_vote(centro, author, "for")
    create_vote(trasporto, citizen, "against")
    approved = approve_decisions(table, [(centro, "approved"), (trasporto, "partially_approved"),
                                         (bocciata, "rejected")], by=facilitator)
    area = create_area(plan, admin_user, tavoli=[table])
    decisions = {d.subject_title: d for d in approved.decisions}
    return {"auser": auser, "cgil": cgil, "centro": centro, "trasporto": trasporto, "bocciata": bocciata,
            "minutes": approved.minutes, "decisions": decisions, "area": area, "citizen": citizen}
