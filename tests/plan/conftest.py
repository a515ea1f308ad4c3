"""Fixtures of the plan tests: tavoli with approved minutes and their decisions (made
through the real meetings operations), plan areas, and the cleanup that approved
minutes need on SQLite."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from consulta.core.db import utcnow
from consulta.core.text import render_markdown
from consulta.extensions import db

MINUTES_TABLES = ("minutes_dissent", "minutes_decision", "minutes_attendance", "minutes")
RECORD_TABLES = ("plan_indicator_value", "plan_progress_update", "plan_input", "plan_budget_line", "plan_indicator",
                 "plan_action_comune", "plan_action", "plan_objective", "plan_area_tavolo", "plan_area",
                 "plan_revision", "plan_revision_set")


@pytest.fixture
def login(client):
    from tests.tavoli.tavoli_helpers import sign_in

    def do(user):
        sign_in(client, user)
        return user

    return do


@pytest.fixture(autouse=True)
def _empty_minutes_before_cleanup(app):
    """On SQLite the shared cleanup deletes rows table by table, which the minutes triggers refuse for
    approved minutes: empty the record (it points at decisions) and the minutes with the guard lifted."""
    yield
    db.session.remove()
    if db.engine.dialect.name != "sqlite":
        return  # TRUNCATE fires no row triggers
    from consulta.meetings.models import trigger_names, trigger_statements

    with db.engine.connect() as conn:
        approved = conn.execute(sa.text("SELECT count(*) FROM minutes WHERE status = 'approved'")).scalar_one()
    if not approved:
        return
    with db.engine.begin() as conn:
        for table in RECORD_TABLES:
            conn.execute(sa.text(f"DELETE FROM {table}"))
        for trigger, _table in trigger_names("sqlite"):
            conn.execute(sa.text(f"DROP TRIGGER IF EXISTS {trigger}"))
        for table in MINUTES_TABLES:
            conn.execute(sa.text(f"DELETE FROM {table}"))
        for statement in trigger_statements("sqlite"):
            conn.execute(sa.text(statement))


@pytest.fixture
def facilitator(create_user):
    return create_user(email="fabio@example.org", display_name="Fabio Facilitatore", role="facilitator")


@pytest.fixture
def other_facilitator(create_user):
    return create_user(email="olga@example.org", display_name="Olga Altrotavolo", role="facilitator")


@pytest.fixture
def plan(ambito, create_plan):
    return create_plan(title="Piano Sociale di Zona 2025–2027", status="consulting")


@pytest.fixture
def table(plan, create_tavolo, facilitator):
    return create_tavolo(plan=plan, slug="anziani", title="Anziani e non autosufficienza", facilitators=[facilitator],
                         phase="discussion")


@pytest.fixture
def other_table(plan, create_tavolo, other_facilitator):
    return create_tavolo(plan=plan, slug="poverta", title="Povertà e inclusione", facilitators=[other_facilitator],
                         phase="discussion")


@pytest.fixture
def create_proposal(app):
    from consulta.proposals.models import Proposal

    def factory(tavolo, author, *, title="Un centro diurno per gli anziani", organisation=None):
        proposal = Proposal(
            tavolo_id=tavolo.id, author_id=author.id, title=title, body="Apriamo un **centro diurno**.",
            body_html=render_markdown("Apriamo un **centro diurno**."),
            category=organisation.type if organisation else "citizen",
            organisation_id=organisation.id if organisation else None,
            state="published", visibility="visible", published_at=utcnow(),
        )
        db.session.add(proposal)
        db.session.commit()
        return proposal

    return factory


@pytest.fixture
def vote(app):
    from consulta.votes.models import Vote

    def cast(proposal, voter, value="for", category="citizen", organisation=None):
        db.session.add(Vote(tavolo_id=proposal.tavolo_id, proposal_id=proposal.id, ballot_key=f"person:{voter.id}",
                            voter_id=voter.id, category=category, value=value,
                            organisation_id=organisation.id if organisation else None))
        db.session.commit()

    return cast


@dataclass
class Approved:
    minutes: object
    decisions: list


@pytest.fixture
def approve_decisions(app, create_organisation, create_user):
    """Minutes of a held meeting with one decision per (subject, outcome), approved through
    meetings.operations.approve_minutes (which seals them and applies the decisions)."""
    from consulta.meetings.models import Attendance, Decision, Meeting, Minutes
    from consulta.meetings.operations import approve_minutes

    counter = iter(range(1, 1000))

    def factory(tavolo, decisions, *, by):
        n = next(counter)
        meeting = Meeting(tavolo_id=tavolo.id, title=f"Incontro {n}", place="Sala consiliare, Narni",
                          starts_at=utcnow().replace(microsecond=0) - timedelta(days=n + 1), status="held",
                          agenda="- Proposte", agenda_html=render_markdown("- Proposte"))
        db.session.add(meeting)
        db.session.flush()
        minutes = Minutes(meeting_id=meeting.id, tavolo_id=tavolo.id, status="draft", text="Si discute.",
                          text_html=render_markdown("Si discute."), agenda_items="Proposte")
        minutes.attendance.append(Attendance(kind="external", name="Ospite", role="Assistente sociale",
                                             category="external"))
        for subject, outcome in decisions:
            is_proposal = subject.__tablename__ == "proposal"
            minutes.decisions.append(Decision(
                proposal_id=subject.id if is_proposal else None, objective_id=None if is_proposal else subject.id,
                subject_title=subject.title, outcome=outcome, method="consensus",
                motivation=f"Motivazione per {subject.title}.",
                motivation_html=render_markdown(f"Motivazione per {subject.title}.")))
        db.session.add(minutes)
        db.session.flush()
        approve_minutes(minutes, by)
        db.session.commit()
        return Approved(minutes, list(minutes.decisions))

    return factory


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
def stage(plan, table, facilitator, admin_user, create_user, create_organisation, create_proposal, vote,
          approve_decisions, create_area):
    """A tavolo with two approved proposals (one partially), one rejected, in approved minutes; an area."""
    auser = create_organisation(name="Auser Narni", type="volunteer")
    cgil = create_organisation(name="CGIL Terni", type="union")
    author = create_user(email="anna@example.org", display_name="Anna Autrice", organisation=auser)
    citizen = create_user(email="carla@example.org", display_name="Carla Cittadina")
    centro = create_proposal(table, author, title="Centro diurno a Narni", organisation=auser)
    trasporto = create_proposal(table, citizen, title="Trasporto sociale serale")
    bocciata = create_proposal(table, citizen, title="Piscina comunale")
    vote(centro, citizen, "for")
    vote(centro, author, "for", category="volunteer", organisation=auser)
    vote(trasporto, citizen, "against")
    approved = approve_decisions(table, [(centro, "approved"), (trasporto, "partially_approved"),
                                         (bocciata, "rejected")], by=facilitator)
    area = create_area(plan, admin_user, tavoli=[table])
    decisions = {d.subject_title: d for d in approved.decisions}
    return {"auser": auser, "cgil": cgil, "centro": centro, "trasporto": trasporto, "bocciata": bocciata,
            "minutes": approved.minutes, "decisions": decisions, "area": area, "citizen": citizen}
