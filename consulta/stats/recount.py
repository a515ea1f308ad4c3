"""Recompute every maintained counter from the rows it counts.

The counters (on a proposal: ballots in favour and public comments, and its date in the list; on
a tavolo: proposals, comments, participants, the response register, the length of its list) are
moved by the operations that change what they count. `recount()` is the check and the repair, after a bulk
import, a restore from backup or a suspicion: it sets each counter to the true count and says how
many rows were wrong. All in SQL, a handful of statements whatever the size; on PostgreSQL the
counted tables are locked against writers meanwhile, so no vote or comment slips between the count
and the write.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, insert, or_, select, text, union_all, update

from consulta.comments.models import Comment, counted_sql
from consulta.extensions import db
from consulta.proposals.models import Proposal, tavolo_tallies_sql
from consulta.tavoli.models import Tavolo, TavoloParticipant
from consulta.votes.models import Vote, VoteValue

LOCKED_TABLES = ("proposal", "comment", "vote", "tavolo", "tavolo_participant")


@dataclass
class Recounted:
    """How many rows had a wrong counter (now corrected)."""

    proposals: int = 0
    tavoli: int = 0


def _count(model, *conditions):
    return select(func.count()).select_from(model).where(*conditions).scalar_subquery()


def _set_where_different(model, values: dict) -> int:
    """UPDATE model SET counter = truth … only on rows where some counter differs; returns how many."""
    columns = {getattr(model, name): truth for name, truth in values.items()}
    if "updated_at" in model.__table__.c:  # a counter is not an edit of its row
        columns[model.updated_at] = model.updated_at
    return db.session.execute(
        update(model).where(or_(*(getattr(model, name) != truth for name, truth in values.items())))
        .values(columns).execution_options(synchronize_session=False)
    ).rowcount


def recount() -> Recounted:
    if db.session.get_bind().dialect.name == "postgresql":
        # Self-conflicting and blocking writers: recounts take turns, and nothing moves under one.
        db.session.execute(text(f"LOCK TABLE {', '.join(LOCKED_TABLES)} IN SHARE ROW EXCLUSIVE MODE"))
    db.session.flush()
    result = Recounted()
    result.proposals = _set_where_different(Proposal, {
        "listed_at": func.coalesce(Proposal.published_at, Proposal.created_at),
        "votes_for_count": _count(Vote, Vote.proposal_id == Proposal.id, Vote.value == VoteValue.for_.value),
        "comments_count": _count(Comment, Comment.proposal_id == Proposal.id, counted_sql()),
    })

    # Participants: one row per person and tavolo with their counted contributions, rebuilt.
    tallies = tavolo_tallies_sql()
    contributions = union_all(
        select(Proposal.tavolo_id.label("tavolo_id"), Proposal.author_id.label("user_id"))
        .where(tallies["proposals_count"], Proposal.author_id.is_not(None)),
        select(Comment.tavolo_id, Comment.author_id).where(counted_sql(), Comment.author_id.is_not(None)),
        select(Vote.tavolo_id, Vote.voter_id).where(Vote.voter_id.is_not(None)),
    ).subquery()
    db.session.execute(delete(TavoloParticipant).execution_options(synchronize_session=False))
    db.session.execute(insert(TavoloParticipant).from_select(
        ["tavolo_id", "user_id", "contributions"],
        select(contributions.c.tavolo_id, contributions.c.user_id, func.count())
        .group_by(contributions.c.tavolo_id, contributions.c.user_id)))

    result.tavoli = _set_where_different(Tavolo, {
        **{name: _count(Proposal, Proposal.tavolo_id == Tavolo.id, condition) for name, condition in tallies.items()},
        "comments_count": _count(Comment, Comment.tavolo_id == Tavolo.id, counted_sql()),
        "participants_count": _count(TavoloParticipant, TavoloParticipant.tavolo_id == Tavolo.id,
                                     TavoloParticipant.contributions > 0),
    })
    db.session.expire_all()
    return result
