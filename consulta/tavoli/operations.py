"""Operations of the tavoli domain: each changes objects, writes audit and
notifications, flushes, and never commits (the view does, once)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from consulta.core import audit, notify
from consulta.core.db import utcnow
from consulta.core.text import render_markdown, slugify
from consulta.extensions import db
from consulta.tavoli.models import (
    OBJECTIVE_TRANSITIONS,
    TAVOLO_TRANSITIONS,
    Follow,
    Objective,
    ObjectiveRevision,
    ObjectiveStatus,
    Phase,
    Tavolo,
)
from consulta.tavoli.queries import follower_ids

SLUG_BASE_MAX = 100


class SlugTaken(ValueError):
    """The chosen short address belongs to another tavolo."""


# --- tavoli --------------------------------------------------------------------

def facilitator_candidates():
    """Users who may facilitate a tavolo: facilitators and admins, not blocked."""
    from consulta.accounts.models import User

    return list(db.session.execute(
        select(User).where(User.role.in_(("facilitator", "admin")), User.blocked_at.is_(None))
        .order_by(User.display_name, User.id)
    ).scalars())


def _slug_in_use(slug: str, exclude_id: int | None = None) -> bool:
    stmt = select(Tavolo.id).where(Tavolo.slug == slug)
    if exclude_id is not None:
        stmt = stmt.where(Tavolo.id != exclude_id)
    return db.session.execute(stmt).first() is not None


def unique_slug(title: str, exclude_id: int | None = None) -> str:
    """A free slug made from `title`: «anziani», then «anziani-2», «anziani-3»…"""
    base = slugify(title)[:SLUG_BASE_MAX].strip("-") or "tavolo"
    taken = set(db.session.execute(
        select(Tavolo.slug).where(Tavolo.slug.like(f"{base}%"), Tavolo.id != (exclude_id or 0))
    ).scalars())
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _choose_slug(requested: str | None, title: str, exclude_id: int | None = None) -> str:
    if requested:
        if _slug_in_use(requested, exclude_id):
            raise SlugTaken(requested)
        return requested
    return unique_slug(title, exclude_id)


def _facilitators_by_id(ids: list[int]):
    from consulta.accounts.models import User

    if not ids:
        return []
    return list(db.session.execute(select(User).where(User.id.in_(ids)).order_by(User.display_name)).scalars())


def create_tavolo(plan, actor, *, title: str, slug: str | None, area: str, description: str,
                  facilitator_ids: list[int], deadline: datetime | None, moderation: str, vote_mode: str,
                  quorum: int | None) -> Tavolo:
    position = db.session.execute(
        select(func.coalesce(func.max(Tavolo.position), 0)).where(Tavolo.plan_id == plan.id)
    ).scalar_one() + 1
    tavolo = Tavolo(
        plan_id=plan.id, slug=_choose_slug(slug, title), title=title, area=area,
        description=description or "", description_html=render_markdown(description),
        proposal_deadline=deadline, moderation=moderation, vote_mode=vote_mode, quorum=quorum,
        position=position,
    )
    tavolo.facilitators = _facilitators_by_id(facilitator_ids)
    db.session.add(tavolo)
    db.session.flush()
    audit.record(actor, "tavolo.create", tavolo, {
        "title": [None, title], "slug": [None, tavolo.slug], "phase": [None, tavolo.phase],
        "facilitators": [None, sorted(f.id for f in tavolo.facilitators)],
    }, tavolo_id=tavolo.id)
    return tavolo


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def update_tavolo(tavolo: Tavolo, actor, *, title: str, slug: str | None, area: str, description: str,
                  facilitator_ids: list[int], deadline: datetime | None, moderation: str, vote_mode: str,
                  quorum: int | None) -> dict[str, list]:
    """Apply the edit; returns the changes (empty when nothing changed, and then nothing is audited)."""
    new_values = {
        "title": title, "slug": slug or tavolo.slug, "area": area, "description": description or "",
        "proposal_deadline": deadline, "moderation": moderation, "vote_mode": vote_mode, "quorum": quorum,
    }
    if new_values["slug"] != tavolo.slug and _slug_in_use(new_values["slug"], tavolo.id):
        raise SlugTaken(new_values["slug"])
    changes: dict[str, list] = {}
    for name, value in new_values.items():
        old = getattr(tavolo, name)
        if old != value:
            # The description can be long: the audit notes that it changed, not the whole text.
            changes[name] = [None, None] if name == "description" else [_iso(old), _iso(value)]
            setattr(tavolo, name, value)
    if "description" in changes:
        tavolo.description_html = render_markdown(tavolo.description)
    old_ids = sorted(f.id for f in tavolo.facilitators)
    new_ids = sorted(set(facilitator_ids))
    if old_ids != new_ids:
        tavolo.facilitators = _facilitators_by_id(new_ids)
        changes["facilitators"] = [old_ids, new_ids]
    if changes:
        audit.record(actor, "tavolo.update", tavolo, changes, tavolo_id=tavolo.id)
        db.session.flush()
    return changes


def change_phase(tavolo: Tavolo, target: str, actor, *, reason: str | None = None, override: bool = False) -> None:
    """Move the tavolo to another phase (the table checks and audits) and tell its followers.

    `override`: an admin closes the tavolo although some proposals have no answer yet; the
    reason is required and the audit event records how many were left unanswered.
    """
    from consulta.proposals.register import unanswered_count

    source = tavolo.phase
    audit_changes = None
    if override and target == Phase.closed:
        missing = unanswered_count(tavolo.id)
        if missing:
            audit_changes = {"unanswered": missing, "override": True}
    TAVOLO_TRANSITIONS.apply(tavolo, target, actor, reason=reason, audit_changes=audit_changes,
                             context={"reason": reason, "override": override, "actor": actor})
    notify.emit(follower_ids(tavolo), "tavolo.phase_changed", tavolo, tavolo_id=tavolo.id,
                data={"from": source, "to": tavolo.phase, "title": tavolo.title}, exclude=actor)
    db.session.flush()


def follow_tavolo(tavolo: Tavolo, user) -> bool:
    """Follow the tavolo; following twice is harmless. Returns True when a row was added."""
    insert = _dialect_insert()
    result = db.session.execute(
        insert(Follow).values(user_id=user.id, tavolo_id=tavolo.id, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["user_id", "tavolo_id"])
    )
    return bool(result.rowcount)


def unfollow_tavolo(tavolo: Tavolo, user) -> bool:
    from sqlalchemy import delete

    result = db.session.execute(delete(Follow).where(Follow.user_id == user.id, Follow.tavolo_id == tavolo.id))
    return bool(result.rowcount)


def _dialect_insert():
    # INSERT … ON CONFLICT DO NOTHING makes concurrent identical follows safe on both backends.
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


# --- objectives ----------------------------------------------------------------

def create_objective(tavolo: Tavolo, actor, *, title: str, body: str) -> Objective:
    position = db.session.execute(
        select(func.coalesce(func.max(Objective.position), 0)).where(Objective.tavolo_id == tavolo.id)
    ).scalar_one() + 1
    objective = Objective(
        tavolo_id=tavolo.id, tavolo=tavolo, title=title, body=body, body_html=render_markdown(body),
        position=position, created_by_id=actor.id,
    )
    db.session.add(objective)
    db.session.flush()
    audit.record(actor, "objective.create", objective, {"title": [None, title]}, tavolo_id=tavolo.id)
    return objective


def _next_revision_number(objective: Objective) -> int:
    return db.session.execute(
        select(func.coalesce(func.max(ObjectiveRevision.number), 0))
        .where(ObjectiveRevision.objective_id == objective.id)
    ).scalar_one() + 1


def _store_revision(objective: Objective, actor, note: str | None) -> ObjectiveRevision:
    revision = ObjectiveRevision(
        objective_id=objective.id, number=_next_revision_number(objective), title=objective.title,
        body=objective.body, note=note or None, edited_by_id=actor.id, edited_at=utcnow(),
    )
    db.session.add(revision)
    db.session.flush()
    return revision


def update_objective(objective: Objective, actor, *, title: str, body: str,
                     note: str | None = None) -> ObjectiveRevision | None:
    """Edit an objective. A draft edits freely; a published one keeps the new text as a revision.

    Returns the new revision, or None (draft, or nothing changed).
    """
    if title == objective.title and body == objective.body:
        return None
    changes = {}
    if title != objective.title:
        changes["title"] = [objective.title, title]
    if body != objective.body:
        changes["body"] = [None, None]
    objective.title = title
    objective.body = body
    objective.body_html = render_markdown(body)
    db.session.flush()
    if not objective.revises_on_edit:
        audit.record(actor, "objective.update", objective, changes, tavolo_id=objective.tavolo_id)
        return None
    revision = _store_revision(objective, actor, note)
    changes["revision"] = [revision.number - 1, revision.number]
    audit.record(actor, "objective.revise", objective, changes, reason=note or None, tavolo_id=objective.tavolo_id)
    notify.emit(follower_ids(objective.tavolo), "objective.revised", objective, tavolo_id=objective.tavolo_id,
                data={"title": objective.title, "revision": revision.number}, exclude=actor)
    db.session.flush()
    return revision


def change_objective_status(objective: Objective, target: str, actor) -> None:
    """Publish, approve or drop; publishing stores revision 1 and tells the followers."""
    OBJECTIVE_TRANSITIONS.apply(objective, target, actor)
    if target == ObjectiveStatus.published:
        objective.published_at = utcnow()
        db.session.flush()
        _store_revision(objective, actor, None)
        notify.emit(follower_ids(objective.tavolo), "objective.published", objective,
                    tavolo_id=objective.tavolo_id, data={"title": objective.title}, exclude=actor)
    db.session.flush()
