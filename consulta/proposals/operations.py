"""Proposal operations: each changes objects, applies the transition table, writes the
audit event and the notifications, and flushes. The view commits."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from consulta.core import audit
from consulta.core.db import utcnow
from consulta.core.notify import emit
from consulta.core.text import clean_plain, render_markdown
from consulta.extensions import db
from consulta.proposals.models import PROPOSAL_TRANSITIONS, Proposal, ProposalState, Visibility
from consulta.tavoli.models import Follow, Moderation


def submit_proposal(*, tavolo, author, title: str, body: str, objective=None, organisation=None) -> Proposal:
    """A participant puts forward a proposal; published at once in a post-moderated tavolo."""
    proposal = Proposal(
        tavolo_id=tavolo.id,
        tavolo=tavolo,
        objective_id=objective.id if objective is not None else None,
        author_id=author.id,
        author=author,
        organisation_id=organisation.id if organisation is not None else None,
        # The category is a snapshot: tallies keep counting it where it was when submitted.
        category=organisation.type if organisation is not None else "citizen",
        title=clean_plain(title),
        body=clean_plain(body, multiline=True),
        body_html=render_markdown(body),
        state=ProposalState.submitted.value,
        visibility=Visibility.pending.value,
    )
    db.session.add(proposal)
    db.session.flush()
    audit.record(author, "proposal.submit", proposal, {
        "title": [None, proposal.title],
        "organisation_id": [None, proposal.organisation_id],
        "objective_id": [None, proposal.objective_id],
    })
    _follow(author, proposal)
    if tavolo.moderation == Moderation.post:
        publish_proposal(proposal, author)
    db.session.flush()
    return proposal


def publish_proposal(proposal: Proposal, actor) -> None:
    """Make a submitted proposal public and tell the tavolo's followers."""
    PROPOSAL_TRANSITIONS.apply(proposal, ProposalState.published, actor,
                               audit_changes={"visibility": [proposal.visibility, Visibility.visible.value]})
    proposal.visibility = Visibility.visible.value
    proposal.published_at = utcnow()
    followers = db.session.execute(
        select(Follow.user_id).where(Follow.tavolo_id == proposal.tavolo_id)).scalars().all()
    emit(followers, "proposal.published", proposal, exclude=proposal.author_id,
         data={"title": proposal.title})
    db.session.flush()


def edit_proposal(proposal: Proposal, editor, *, title: str, body: str, objective=None) -> None:
    before = {"title": proposal.title, "objective_id": proposal.objective_id, "body": proposal.body}
    proposal.title = clean_plain(title)
    proposal.body = clean_plain(body, multiline=True)
    proposal.body_html = render_markdown(body)
    proposal.objective_id = objective.id if objective is not None else None
    proposal.objective = objective
    changes = {"title": [before["title"], proposal.title]}
    if before["objective_id"] != proposal.objective_id:
        changes["objective_id"] = [before["objective_id"], proposal.objective_id]
    if before["body"] != proposal.body:
        changes["body_changed"] = True
    audit.record(editor, "proposal.edit", proposal, changes)
    db.session.flush()


def withdraw_proposal(proposal: Proposal, author, *, reason: str | None = None) -> None:
    PROPOSAL_TRANSITIONS.apply(proposal, ProposalState.withdrawn, author, reason=clean_plain(reason, multiline=True)
                               or None)
    followers = db.session.execute(
        select(Follow.user_id).where(Follow.proposal_id == proposal.id)).scalars().all()
    emit(followers, "proposal.withdrawn", proposal, exclude=author, data={"title": proposal.title})
    db.session.flush()


def _follow(user, proposal: Proposal) -> None:
    exists = db.session.execute(
        select(Follow.id).where(Follow.user_id == user.id, Follow.proposal_id == proposal.id)).first()
    if exists is not None:
        return
    try:
        # A savepoint: a concurrent identical request loses the race quietly.
        with db.session.begin_nested():
            db.session.add(Follow(user_id=user.id, proposal_id=proposal.id))
    except IntegrityError:
        pass


def follow_proposal(user, proposal: Proposal) -> None:
    """Idempotent: following twice leaves one row."""
    _follow(user, proposal)
    db.session.flush()


def unfollow_proposal(user, proposal: Proposal) -> None:
    """Idempotent: unfollowing what one does not follow changes nothing."""
    db.session.execute(delete(Follow).where(Follow.user_id == user.id, Follow.proposal_id == proposal.id))
    db.session.flush()

