"""Read-side helpers of the tavoli pages: which tavoli a user may see, and their
counts, always computed in SQL with GROUP BY (never by loading rows)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import and_, false, func, or_, select, true, union_all

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


def _public_proposal():
    from consulta.proposals.models import Proposal

    return and_(Proposal.visibility == "visible", Proposal.state.not_in(("submitted", "withdrawn")))


def _public_comment():
    from consulta.comments.models import Comment

    return and_(Comment.visibility == "visible", Comment.deleted_at.is_(None))


def tavolo_stats(tavolo_ids: Iterable[int], *, with_objectives: bool = False) -> dict[int, TavoloStats]:
    """Counts of published, visible proposals and comments, distinct participants
    (authors and voters) and, optionally, objectives by status, per tavolo.

    A fixed number of queries whatever the number of tavoli or contributions.
    """
    from consulta.comments.models import Comment
    from consulta.proposals.models import Proposal
    from consulta.votes.models import Vote

    ids = sorted({int(i) for i in tavolo_ids})
    stats: dict[int, TavoloStats] = defaultdict(TavoloStats)
    if not ids:
        return stats
    for tavolo_id in ids:
        stats[tavolo_id] = TavoloStats()

    rows = db.session.execute(
        select(Proposal.tavolo_id, func.count())
        .where(Proposal.tavolo_id.in_(ids), _public_proposal())
        .group_by(Proposal.tavolo_id)
    )
    for tavolo_id, count in rows:
        stats[tavolo_id].proposals = count

    rows = db.session.execute(
        select(Comment.tavolo_id, func.count())
        .where(Comment.tavolo_id.in_(ids), _public_comment())
        .group_by(Comment.tavolo_id)
    )
    for tavolo_id, count in rows:
        stats[tavolo_id].comments = count

    people = union_all(
        select(Proposal.tavolo_id.label("tavolo_id"), Proposal.author_id.label("user_id"))
        .where(Proposal.tavolo_id.in_(ids), _public_proposal()),
        select(Comment.tavolo_id, Comment.author_id).where(Comment.tavolo_id.in_(ids), _public_comment()),
        select(Vote.tavolo_id, Vote.voter_id).where(Vote.tavolo_id.in_(ids)),
    ).subquery()
    rows = db.session.execute(
        select(people.c.tavolo_id, func.count(people.c.user_id.distinct()))
        .where(people.c.user_id.is_not(None))
        .group_by(people.c.tavolo_id)
    )
    for tavolo_id, count in rows:
        stats[tavolo_id].participants = count

    if with_objectives:
        rows = db.session.execute(
            select(Objective.tavolo_id, Objective.status, func.count())
            .where(Objective.tavolo_id.in_(ids))
            .group_by(Objective.tavolo_id, Objective.status)
        )
        for tavolo_id, status, count in rows:
            stats[tavolo_id].objectives[status] = count
    return stats


def is_following(user, tavolo: Tavolo) -> bool:
    if not is_authenticated(user):
        return False
    return db.session.execute(
        select(Follow.id).where(Follow.user_id == user.id, Follow.tavolo_id == tavolo.id)
    ).first() is not None


def follower_ids(tavolo: Tavolo) -> list[int]:
    return list(db.session.execute(select(Follow.user_id).where(Follow.tavolo_id == tavolo.id)).scalars())
