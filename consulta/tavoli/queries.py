"""Read-side helpers of the tavoli pages: which tavoli a user may see, and their
figures, read from the counters kept on the tavolo row (never recounted per view)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import false, func, or_, select, true

from consulta.core.permissions import is_admin, is_authenticated, is_facilitator
from consulta.extensions import db
from consulta.tavoli.models import Follow, Objective, Phase, Tavolo, tavolo_facilitator


@dataclass
class TavoloStats:
    proposals: int = 0
    comments: int = 0
    participants: int = 0
    objectives: dict[str, int] = field(default_factory=dict)


def visible_tavoli_clause(user):
    """SQL condition for the tavoli `user` may see: all but drafts, plus the drafts they facilitate."""
    if is_admin(user):
        return true()
    public = Tavolo.phase != Phase.draft
    if is_facilitator(user):
        facilitated = select(tavolo_facilitator.c.tavolo_id).where(tavolo_facilitator.c.user_id == user.id)
        return or_(public, Tavolo.id.in_(facilitated))
    return public


def facilitated_tavoli_clause(user):
    """SQL condition for the tavoli `user` works on in the facilitation area (admins: all)."""
    if is_admin(user):
        return true()
    if not (is_facilitator(user)):
        return false()
    return Tavolo.id.in_(select(tavolo_facilitator.c.tavolo_id).where(tavolo_facilitator.c.user_id == user.id))


def tavolo_stats(tavoli: Iterable[Tavolo], *, with_objectives: bool = False) -> dict[int, TavoloStats]:
    """The figures of each tavolo, read from its counters (consulta.tavoli.counters): no query, whatever
    the number of tavoli or contributions; with `with_objectives`, one GROUP BY for the objectives by status.
    """
    stats = {t.id: TavoloStats(proposals=t.proposals_count, comments=t.comments_count,
                               participants=t.participants_count) for t in tavoli}
    if with_objectives and stats:
        rows = db.session.execute(
            select(Objective.tavolo_id, Objective.status, func.count())
            .where(Objective.tavolo_id.in_(sorted(stats)))
            .group_by(Objective.tavolo_id, Objective.status)
        )
        for tavolo_id, status, count in rows:
            stats[tavolo_id].objectives[status] = count
    return stats


def following_clause(user):
    """SQL: whether `user` follows the tavolo of the enclosing query (false when anonymous), to read it
    in the same statement as the tavolo."""
    if not is_authenticated(user):
        return false().label("following")
    return select(Follow.id).where(Follow.user_id == user.id, Follow.tavolo_id == Tavolo.id).exists().label(
        "following")


def follower_ids(tavolo: Tavolo) -> list[int]:
    return list(db.session.execute(select(Follow.user_id).where(Follow.tavolo_id == tavolo.id)).scalars())
