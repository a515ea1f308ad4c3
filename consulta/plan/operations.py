"""Operations on plan editions: each flushes, the view commits."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from consulta.core import audit, notify
from consulta.extensions import db
from consulta.plan.models import PLAN_TRANSITIONS, Plan, PlanStatus


def create_plan(actor, *, title: str, period_start: int, period_end: int, description: str | None) -> Plan:
    plan = Plan(title=title, period_start=period_start, period_end=period_end, description=description or None)
    db.session.add(plan)
    db.session.flush()
    audit.record(actor, "plan.create", plan, {
        "title": [None, title], "period": [None, plan.period_label], "status": [None, plan.status],
    })
    return plan


def update_plan(plan: Plan, actor, *, title: str, period_start: int, period_end: int,
                description: str | None) -> dict[str, list]:
    """Apply the edit; returns what changed (nothing audited when nothing changed)."""
    changes: dict[str, list] = {}
    for name, value in (("title", title), ("period_start", period_start), ("period_end", period_end),
                        ("description", description or None)):
        old = getattr(plan, name)
        if old != value:
            changes[name] = [None, None] if name == "description" else [old, value]
            setattr(plan, name, value)
    if changes:
        audit.record(actor, "plan.update", plan, changes)
        db.session.flush()
    return changes


def change_plan_status(plan: Plan, target: str, actor, *, adoption_reference: str | None = None,
                       adoption_date: date | None = None) -> None:
    """Move the plan through its lifecycle; adoption records the deliberation first."""
    extra = {}
    if target == PlanStatus.adopted:
        extra = {"adoption_reference": [plan.adoption_reference, adoption_reference],
                 "adoption_date": [plan.adoption_date.isoformat() if plan.adoption_date else None,
                                   adoption_date.isoformat() if adoption_date else None]}
        # The transition's requirement reads these; a refused move is rolled back by the view.
        plan.adoption_reference = adoption_reference
        plan.adoption_date = adoption_date
    PLAN_TRANSITIONS.apply(plan, target, actor, audit_changes=extra)
    if target == PlanStatus.adopted:
        notify.emit(adoption_recipients(plan), "plan.adopted", plan, data={"title": plan.title}, exclude=actor)
    db.session.flush()


def adoption_recipients(plan: Plan) -> list[int]:
    """Who hears that the plan was adopted: the active participants who follow a tavolo of it.

    They chose to follow the concertazione, so the outcome of it is news they asked for;
    everybody else can read it on the home page without an unrequested message.
    """
    from consulta.accounts.models import User
    from consulta.tavoli.models import Follow, Tavolo

    return list(db.session.execute(
        select(User.id).distinct()
        .join(Follow, Follow.user_id == User.id).join(Tavolo, Follow.tavolo_id == Tavolo.id)
        .where(Tavolo.plan_id == plan.id, User.email_verified_at.is_not(None), User.blocked_at.is_(None))
        .order_by(User.id)
    ).scalars())
