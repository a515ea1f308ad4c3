"""`flask demo` loads a consultation well under way, once, through the domain operations."""

from datetime import timedelta

from sqlalchemy import func, select

from consulta.accounts.models import User
from consulta.ambito.models import Ambito, Comune
from consulta.comments.models import Comment
from consulta.core.db import utcnow
from consulta.extensions import db
from consulta.meetings.models import Decision, Meeting, Minutes, TavoloMember
from consulta.moderation.queries import moderated_tavolo_ids, queue_totals
from consulta.organisations.models import Organisation
from consulta.plan.models import Plan
from consulta.plan.record import (
    BudgetLine,
    PlanAction,
    PlanArea,
    PlanInput,
    ProgressUpdate,
    RevisionSet,
)
from consulta.proposals.models import Proposal
from consulta.tavoli.models import Objective, ObjectiveRevision, Tavolo
from consulta.votes.models import Vote

CATEGORIES = {"citizen", "union", "social_coop", "volunteer", "aps", "third_sector_other", "public_body"}


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _every_table() -> dict[str, int]:
    return {table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables}


def test_demo_loads_the_ambito_and_a_consultation_well_under_way(runner):
    assert all(n == 0 for n in _every_table().values())
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "admin@consulta.example" in result.output and "consulta-demo-2025" in result.output

    ambito = Ambito.current()
    assert ambito.name == "Ambito Territoriale Sociale n. 11"
    assert ambito.lead_comune.name == "Narni"
    assert _count(Comune) == 12
    assert _count(Tavolo) == 6
    assert {o.type for o in db.session.scalars(select(Organisation))} >= CATEGORIES - {"citizen"}
    # Every demo account can log in with the printed password.
    for email in ("admin@consulta.example", "facilitatrice@consulta.example", "coop@consulta.example",
                  "cittadino@consulta.example"):
        assert db.session.scalar(select(User).where(User.email == email)).check_password("consulta-demo-2025")

    # Members with a delegate and a substitute, accepted by the facilitator; one request still waiting.
    assert _count(TavoloMember, TavoloMember.status == "accepted") >= 20
    assert _count(TavoloMember, TavoloMember.status == "accepted", TavoloMember.substitute_id.is_not(None)) >= 10
    assert _count(TavoloMember, TavoloMember.status == "requested") == 1

    # Objectives revised two or three times.
    revisions = dict(db.session.execute(
        select(ObjectiveRevision.objective_id, func.count()).group_by(ObjectiveRevision.objective_id)).all())
    assert _count(Objective) >= 8 and max(revisions.values()) == 3 and sum(n >= 2 for n in revisions.values()) >= 3

    # ~40 proposals from every category, with comments, replies, stances and votes.
    assert _count(Proposal) >= 40
    assert set(db.session.scalars(select(Proposal.category).distinct())) == CATEGORIES
    assert set(db.session.scalars(select(Vote.category).distinct())) == CATEGORIES
    assert _count(Vote) >= 150
    assert _count(Comment) >= 30 and _count(Comment, Comment.parent_id.is_not(None)) >= 3
    assert {"in_favour", "against", "neutral"} <= set(db.session.scalars(select(Comment.stance).distinct()))

    # Answered (each outcome, with a motivation), merged, paper and waiting proposals.
    states = dict(db.session.execute(select(Proposal.state, func.count()).group_by(Proposal.state)).all())
    assert states["approved"] >= 4 and states["partially_approved"] >= 3 and states["rejected"] >= 2
    assert states["merged"] == 1 and states["under_review"] >= 1 and states["submitted"] >= 2
    assert _count(Proposal, Proposal.state.in_(("approved", "partially_approved", "rejected")),
                  Proposal.answer.is_(None)) == 0
    assert _count(Proposal, Proposal.channel == "paper", Proposal.recorded_by_id.is_not(None)) == 1

    # The facilitator's queue: submissions waiting in pre-moderated tavoli, flagged comments.
    facilitator = db.session.scalar(select(User).where(User.email == "facilitatrice@consulta.example"))
    pending, flagged = queue_totals(moderated_tavolo_ids(facilitator))
    assert pending >= 3 and flagged >= 2

    # Two meetings held (last month, last week) with approved minutes, one rettifica, one convened next week.
    now = utcnow()
    held = list(db.session.scalars(select(Meeting).where(Meeting.status == "held").order_by(Meeting.starts_at)))
    assert len(held) == 2
    assert now - timedelta(days=45) < held[0].starts_at < now - timedelta(days=20)
    assert now - timedelta(days=10) < held[1].starts_at < now
    upcoming = db.session.scalars(select(Meeting).where(Meeting.status == "scheduled")).one()
    assert now < upcoming.starts_at < now + timedelta(days=14)
    approved = list(db.session.scalars(select(Minutes).where(Minutes.status == "approved")))
    assert len(approved) == 3 and sum(m.corrects_id is not None for m in approved) == 1
    assert all(len(m.content_hash) == 64 for m in approved)
    counted = list(db.session.scalars(select(Decision).where(Decision.method == "vote")))
    assert counted and any(d.dissents for d in counted)
    for decision in counted:
        assert decision.votes_for + decision.votes_against + decision.votes_abstained <= decision.minutes.members_present
        if decision.outcome == "approved":
            assert decision.votes_for > decision.votes_against

    # The plan record: areas, ~10 actions with budget by funding source, indicators, progress, provenance,
    # one aggiornamento; adopted and monitored.
    plan = db.session.scalars(select(Plan)).one()
    assert plan.status == "monitoring" and plan.adoption_reference
    assert 3 <= _count(PlanArea) <= 4
    actions = list(db.session.scalars(select(PlanAction)))
    assert 9 <= len(actions) <= 12 and all(a.budget_lines for a in actions)
    assert len(set(db.session.scalars(select(BudgetLine.funding_source).distinct()))) >= 5
    assert _count(ProgressUpdate) >= 4
    assert _count(PlanInput, PlanInput.proposal_id.is_not(None)) >= 4
    assert _count(PlanInput, PlanInput.objective_id.is_not(None)) >= 2
    sets = list(db.session.scalars(select(RevisionSet)))
    assert len(sets) == 1 and sets[0].closed_at is not None and sets[0].approval_reference

    # Notifications from the operations, and the citizen's weekly digest waiting for `make run`'s sender.
    from consulta.core.notify import Notification
    from consulta.digests.models import OutboxEmail

    assert _count(Notification) >= 50
    [digest] = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "digest")).all()
    assert digest.to_address == "cittadino@consulta.example" and digest.status == "pending"
    assert "Approvata la rettifica del verbale n." in digest.body_text and "/verbali/" in digest.body_text


def test_demo_is_idempotent_and_its_minutes_are_intact(runner):
    runner.invoke(args=["demo"])
    before = _every_table()
    result = runner.invoke(args=["demo", "--quiet"])
    assert result.exit_code == 0
    assert "già presente" in result.output
    assert _every_table() == before

    # `flask verify-minutes` recomputes every SHA-256 sealed by approve_minutes: all intact.
    result = runner.invoke(args=["verify-minutes"])
    assert result.exit_code == 0, result.output
    assert result.output.count(": integro (") == 3
    assert "3 verbali controllati: nessuna alterazione." in result.output
