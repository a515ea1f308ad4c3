"""Operations on plan editions: each flushes, the view commits."""

from __future__ import annotations

from datetime import date

from consulta.core import audit
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
    db.session.flush()
