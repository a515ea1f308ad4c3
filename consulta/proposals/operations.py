"""Proposal operations: each changes objects, applies the transition table, writes the
audit event and the notifications, and flushes. The view commits."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from consulta.core import audit
from consulta.core.db import utcnow
from consulta.core.notify import emit
from consulta.core.states import TransitionError, lock
from consulta.core.text import clean_plain, render_markdown
from consulta.extensions import db
from consulta.proposals.models import (
    OUTCOMES,
    PROPOSAL_TRANSITIONS,
    STATE_LABELS,
    Proposal,
    ProposalState,
    Visibility,
)
from consulta.tavoli.models import Follow, Moderation

# How far a chain of merges is followed when looking for a cycle (chains are short in practice).
MERGE_CHAIN_LIMIT = 1000


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


def publish_proposal(proposal: Proposal, actor, *, moderated: bool = False) -> None:
    """Make a submitted proposal public and tell the tavolo's followers.

    `moderated`: a moderator approved it from the queue, an act of its own in the audit log
    (and in the tavolo's public moderation log); otherwise the publication row records the
    visibility too.
    """
    # The moderation package imports this domain's models: imported here to avoid a cycle.
    from consulta.moderation.models import PROPOSAL_VISIBILITY

    before = proposal.visibility
    PROPOSAL_TRANSITIONS.apply(proposal, ProposalState.published, actor,
                               audit_changes={"visibility": [before, Visibility.visible.value]})
    if moderated:
        PROPOSAL_VISIBILITY.apply(proposal, Visibility.visible, actor)
    else:
        PROPOSAL_VISIBILITY.move(proposal, Visibility.visible, actor)
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



# --------------------------------------------------------------------------- evaluation and answers

def _interested(proposal: Proposal) -> list[int]:
    """The author and the followers of a proposal: who is told about its outcome."""
    followers = db.session.execute(
        select(Follow.user_id).where(Follow.proposal_id == proposal.id)).scalars().all()
    return [uid for uid in [proposal.author_id, *followers] if uid is not None]


def start_review(proposal: Proposal, actor) -> None:
    """A facilitator takes a published proposal into evaluation; its author is told."""
    PROPOSAL_TRANSITIONS.apply(proposal, ProposalState.under_review, actor)
    emit([proposal.author_id] if proposal.author_id else [], "proposal.under_review", proposal, exclude=actor,
         data={"title": proposal.title})
    db.session.flush()


def _lock_for_answer(proposal: Proposal) -> None:
    """Two facilitators answering at once are serialised on the proposal's row: the second finds it
    answered and gets a 409 — one answer, one notice to the author."""
    lock(proposal, watch="state", message=_(
        "Un altro facilitatore ha appena risposto a questa proposta o ne ha cambiato lo stato: ricarica la pagina "
        "per leggere la risposta."))


def _set_answer(proposal: Proposal, actor, motivation: str) -> str:
    text = clean_plain(motivation, multiline=True)
    proposal.answer = text
    proposal.answer_html = render_markdown(text)
    proposal.answered_by_id = actor.id
    proposal.answered_at = utcnow()
    return text


def answer_proposal(proposal: Proposal, actor, *, outcome: str, motivation: str) -> None:
    """The facilitator's evaluation: accolta, accolta in parte or non accolta, always motivated.

    A published proposal goes through "in valutazione" first, as the lifecycle requires. A later
    minutes decision confirms the answer or overturns it (transitions `minutes.decision`).
    """
    if outcome not in OUTCOMES:
        raise TransitionError(_("Risposta sconosciuta."), 400)
    if not clean_plain(motivation, multiline=True):
        raise TransitionError(_("La risposta deve avere una motivazione."), 409)
    _lock_for_answer(proposal)
    if proposal.state == ProposalState.published:
        PROPOSAL_TRANSITIONS.apply(proposal, ProposalState.under_review, actor)
    text = _set_answer(proposal, actor, motivation)
    PROPOSAL_TRANSITIONS.apply(proposal, outcome, actor, context={"answer": text},
                               audit_changes={"answer_length": len(text)})
    emit(_interested(proposal), "proposal.answered", proposal, exclude=actor,
         data={"title": proposal.title, "outcome": outcome})
    db.session.flush()


def merge_refusal(proposal: Proposal, target: Proposal | None) -> str | None:
    """Why `proposal` cannot be merged into `target` (an Italian message), or None."""
    if target is None:
        return _("La proposta indicata per l'unione non esiste.")
    if target.id == proposal.id:
        return _("Una proposta non può essere unita a se stessa: scegli un'altra proposta.")
    if target.tavolo_id != proposal.tavolo_id:
        return _("Si può unire solo a una proposta dello stesso tavolo.")
    # Following the target's own merges back to this proposal would close a circle.
    seen, step = set(), target
    while step is not None and step.merged_into_id is not None and len(seen) < MERGE_CHAIN_LIMIT:
        if step.merged_into_id == proposal.id:
            return _("Unione circolare: «%(title)s» è già unita a questa proposta.", title=target.title)
        seen.add(step.id)
        step = step.merged_into
    if target.state == ProposalState.merged:
        return _("«%(title)s» è a sua volta unita a un'altra proposta: scegli la proposta in cui è confluita.",
                 title=target.title)
    if target.state in (ProposalState.withdrawn, ProposalState.submitted):
        return _("«%(title)s» è «%(state)s»: non si può unire a questa proposta.", title=target.title,
                 state=str(STATE_LABELS[target.state]).lower())
    if target.visibility != Visibility.visible:
        return _("«%(title)s» è nascosta dal moderatore: non si può unire a questa proposta.", title=target.title)
    return None


def merge_proposal(proposal: Proposal, target: Proposal | None, actor, *, motivation: str) -> None:
    """Merge a duplicate into another proposal of the same tavolo; the motivation is the answer."""
    if target is not None and target.id != proposal.id:
        # Both rows, in a fixed order (no deadlock): neither may move while we decide, so two crossed
        # merges (A into B, B into A) cannot both pass the circle check.
        for one in sorted((proposal, target), key=lambda p: p.id):
            if one is proposal:
                _lock_for_answer(proposal)
            else:
                lock(target, watch="state")
    problem = merge_refusal(proposal, target)
    if problem:
        raise TransitionError(problem, 409)
    if not clean_plain(motivation, multiline=True):
        raise TransitionError(_("La risposta deve avere una motivazione."), 409)
    text = _set_answer(proposal, actor, motivation)
    proposal.merged_into_id = target.id
    proposal.merged_into = target
    PROPOSAL_TRANSITIONS.apply(proposal, ProposalState.merged, actor, context={"answer": text},
                               audit_changes={"merged_into_id": [None, target.id], "answer_length": len(text)})
    emit(_interested(proposal), "proposal.merged", proposal, exclude=actor,
         data={"title": proposal.title, "target_id": target.id, "target_title": target.title})
    db.session.flush()


# --------------------------------------------------------------------------- off-line contributions

def record_offline_proposal(*, tavolo, recorder, channel: str, protocol_number: str | None, title: str, body: str,
                            organisation=None, author_name: str | None = None, objective=None) -> Proposal:
    """A facilitator records a proposal received on paper, by e-mail or at a meeting.

    On behalf of a verified organisation or of a named citizen without an account; it is published
    at once (the facilitator has seen it) and then follows the usual lifecycle.
    """
    author_name = clean_plain(author_name) or None
    protocol_number = clean_plain(protocol_number) or None
    proposal = Proposal(
        tavolo_id=tavolo.id,
        tavolo=tavolo,
        objective_id=objective.id if objective is not None else None,
        author_id=None,
        author_name=author_name,
        organisation_id=organisation.id if organisation is not None else None,
        organisation=organisation,
        category=organisation.type if organisation is not None else "citizen",
        title=clean_plain(title),
        body=clean_plain(body, multiline=True),
        body_html=render_markdown(body),
        channel=channel,
        protocol_number=protocol_number,
        recorded_by_id=recorder.id,
        state=ProposalState.submitted.value,
        visibility=Visibility.pending.value,
    )
    db.session.add(proposal)
    db.session.flush()
    audit.record(recorder, "proposal.record_offline", proposal, {
        "title": [None, proposal.title],
        "channel": [None, channel],
        "protocol_number": [None, protocol_number],
        "organisation_id": [None, proposal.organisation_id],
        "author_name": [None, author_name],
    })
    publish_proposal(proposal, recorder)
    return proposal
