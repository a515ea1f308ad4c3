"""Proposals put forward at a tavolo, and their lifecycle."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consulta.core.db import enum_check, enum_column, utcnow
from consulta.core.permissions import facilitates, is_active_participant, is_authenticated
from consulta.core.states import Transition, TransitionTable
from consulta.extensions import db

if TYPE_CHECKING:
    from consulta.accounts.models import User
    from consulta.organisations.models import Organisation
    from consulta.tavoli.models import Objective, Tavolo


class ProposalState(StrEnum):
    submitted = "submitted"
    published = "published"
    under_review = "under_review"
    approved = "approved"
    partially_approved = "partially_approved"
    rejected = "rejected"
    merged = "merged"
    withdrawn = "withdrawn"


STATE_LABELS = {
    "submitted": _l("In attesa di moderazione"),
    "published": _l("Pubblicata"),
    "under_review": _l("In valutazione"),
    "approved": _l("Accolta"),
    "partially_approved": _l("Accolta in parte"),
    "rejected": _l("Non accolta"),
    "merged": _l("Unita ad altra proposta"),
    "withdrawn": _l("Ritirata"),
}
ANSWERED_STATES = frozenset({"approved", "partially_approved", "rejected", "merged"})


class Visibility(StrEnum):
    pending = "pending"
    visible = "visible"
    hidden = "hidden"


class Channel(StrEnum):
    online = "online"
    paper = "paper"
    email = "email"
    meeting = "meeting"


CHANNEL_LABELS = {
    "online": _l("Online"),
    "paper": _l("Cartacea"),
    "email": _l("Posta elettronica"),
    "meeting": _l("Durante un incontro"),
}


def _author(proposal, user) -> bool:
    return is_authenticated(user) and proposal.author_id == user.id and not user.is_blocked


def _facilitator(proposal, user) -> bool:
    return facilitates(user, proposal.tavolo)


def _system_or_facilitator(proposal, user) -> bool:
    # Publication happens automatically in post-moderated tavoli (actor is the author) or by a moderator.
    return _facilitator(proposal, user) or (_author(proposal, user) and proposal.tavolo.moderation == "post")


def _needs_answer(proposal, ctx) -> str | None:
    if not (ctx.get("answer") or "").strip():
        return "La risposta deve avere una motivazione."
    return None


PROPOSAL_TRANSITIONS = TransitionTable("state", [
    Transition(ProposalState.submitted, ProposalState.published, allowed=_system_or_facilitator,
               action="proposal.publish"),
    Transition(ProposalState.submitted, ProposalState.withdrawn, allowed=_author, action="proposal.withdraw"),
    Transition(ProposalState.published, ProposalState.withdrawn, allowed=_author, action="proposal.withdraw"),
    Transition(ProposalState.published, ProposalState.under_review, allowed=_facilitator,
               action="proposal.review"),
    Transition(ProposalState.under_review, ProposalState.approved, allowed=_facilitator,
               action="proposal.answer", requires=_needs_answer),
    Transition(ProposalState.under_review, ProposalState.partially_approved, allowed=_facilitator,
               action="proposal.answer", requires=_needs_answer),
    Transition(ProposalState.under_review, ProposalState.rejected, allowed=_facilitator,
               action="proposal.answer", requires=_needs_answer),
    Transition(ProposalState.under_review, ProposalState.merged, allowed=_facilitator,
               action="proposal.merge", requires=_needs_answer),
    Transition(ProposalState.published, ProposalState.merged, allowed=_facilitator,
               action="proposal.merge", requires=_needs_answer),
])


class Proposal(db.Model):
    __tablename__ = "proposal"
    __table_args__ = (
        enum_check("state", ProposalState),
        enum_check("visibility", Visibility),
        enum_check("channel", Channel),
        CheckConstraint("visibility != 'hidden' OR hidden_reason IS NOT NULL", name="hidden_has_reason"),
        CheckConstraint(
            "state NOT IN ('approved', 'partially_approved', 'rejected', 'merged') "
            "OR (answer IS NOT NULL AND answered_by_id IS NOT NULL AND answered_at IS NOT NULL)",
            name="decided_has_answer",
        ),
        CheckConstraint("(state = 'merged') = (merged_into_id IS NOT NULL)", name="merged_has_target"),
        CheckConstraint("merged_into_id IS NULL OR merged_into_id != id", name="not_merged_into_self"),
        CheckConstraint("channel = 'online' OR recorded_by_id IS NOT NULL", name="offline_has_recorder"),
        Index("ix_proposal_tavolo_state", "tavolo_id", "state"),
        Index("ix_proposal_tavolo_created", "tavolo_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tavolo_id: Mapped[int] = mapped_column(ForeignKey("tavolo.id", ondelete="CASCADE"))
    objective_id: Mapped[int | None] = mapped_column(ForeignKey("objective.id", ondelete="SET NULL"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    # The author's name as given for an off-line contribution by someone without an account.
    author_name: Mapped[str | None] = mapped_column(String(120))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id", ondelete="SET NULL"), index=True)
    # Stakeholder category when submitted: the tavolo filter and tallies count it.
    category: Mapped[str] = mapped_column(String(20), default="citizen")
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = enum_column(Channel, default=Channel.online)
    protocol_number: Mapped[str | None] = mapped_column(String(60))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    state: Mapped[str] = enum_column(ProposalState, default=ProposalState.submitted)
    visibility: Mapped[str] = enum_column(Visibility, default=Visibility.pending)
    hidden_reason: Mapped[str | None] = mapped_column(String(500))
    answer: Mapped[str | None] = mapped_column(Text)
    answer_html: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None]
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("proposal.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None]

    tavolo: Mapped[Tavolo] = relationship()
    objective: Mapped[Objective | None] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    organisation: Mapped[Organisation | None] = relationship()
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])
    merged_into: Mapped[Proposal | None] = relationship(remote_side=[id], foreign_keys=[merged_into_id])

    def __repr__(self) -> str:
        return f"<Proposal {self.id} {self.state}>"

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS[self.state])

    @property
    def channel_label(self) -> str:
        return str(CHANNEL_LABELS[self.channel])

    @property
    def is_answered(self) -> bool:
        return self.state in ANSWERED_STATES

    def is_author(self, user) -> bool:
        return is_authenticated(user) and self.author_id == user.id

    # --- permissions -------------------------------------------------------
    def can_view(self, user) -> bool:
        """May see the proposal page at all (a hidden one shows a placeholder)."""
        if not self.tavolo.can_view(user):
            return False
        if self.visibility == Visibility.pending or self.state == ProposalState.submitted:
            return self.is_author(user) or facilitates(user, self.tavolo)
        return True

    def can_read_text(self, user) -> bool:
        """May read the body: hidden text is kept from everyone but its author and moderators."""
        if not self.can_view(user):
            return False
        if self.visibility == Visibility.hidden:
            return self.is_author(user) or facilitates(user, self.tavolo)
        return True

    def within_grace(self, now: datetime | None = None) -> bool:
        minutes = current_app.config.get("EDIT_GRACE_MINUTES", 30)
        return (now or utcnow()) <= self.created_at + timedelta(minutes=minutes)

    def can_edit(self, user) -> bool:
        return (
            _author(self, user) and is_active_participant(user)
            and self.state in (ProposalState.submitted, ProposalState.published)
            and self.channel == Channel.online
            and self.within_grace()
        )

    def can_withdraw(self, user) -> bool:
        return PROPOSAL_TRANSITIONS.can(self, ProposalState.withdrawn, user)

    def is_open_for_discussion(self) -> bool:
        return self.visibility == Visibility.visible and self.state not in (
            ProposalState.withdrawn, ProposalState.merged, ProposalState.submitted)

    def can_comment(self, user) -> bool:
        return self.is_open_for_discussion() and self.tavolo.can_comment(user)

    def can_vote(self, user) -> bool:
        return self.is_open_for_discussion() and self.tavolo.can_vote(user)

    def can_follow(self, user) -> bool:
        return is_active_participant(user) and self.can_view(user)

    def can_unfollow(self, user) -> bool:
        # Anyone may stop following, even a blocked account: it only removes their own row.
        return is_authenticated(user) and self.can_view(user)

    # --- refusals: why a can_* answered no, as (HTTP status, Italian message) ---
    def edit_refusal(self, user) -> tuple[int, str] | None:
        if self.can_edit(user):
            return None
        if not self.is_author(user):
            return 403, str(_l("Puoi modificare solo le proposte che hai presentato tu."))
        if not is_active_participant(user):
            return 403, str(_l("Il tuo account non può modificare proposte in questo momento."))
        if self.state not in (ProposalState.submitted, ProposalState.published) or self.channel != Channel.online:
            return 409, str(_l("La proposta è «%(state)s»: non può più essere modificata.",
                               state=self.state_label))
        return 403, str(_l("Il tempo per modificare la proposta è scaduto: le modifiche sono possibili "
                           "solo entro %(minutes)d minuti dalla presentazione.", minutes=self.grace_minutes))

    def withdraw_refusal(self, user) -> tuple[int, str] | None:
        if self.can_withdraw(user):
            return None
        if not self.is_author(user):
            return 403, str(_l("Solo chi ha presentato la proposta può ritirarla."))
        if user.is_blocked:
            return 403, str(_l("Il tuo account è sospeso: non puoi ritirare la proposta."))
        if self.state == ProposalState.withdrawn:
            return 409, str(_l("La proposta è già stata ritirata."))
        return 409, str(_l("La proposta è «%(state)s»: dopo l'inizio della valutazione non può più essere ritirata.",
                           state=self.state_label))

    # --- presentation ------------------------------------------------------
    @property
    def grace_minutes(self) -> int:
        return int(current_app.config.get("EDIT_GRACE_MINUTES", 30))

    @property
    def editable_until(self) -> datetime:
        return self.created_at + timedelta(minutes=self.grace_minutes)

    @property
    def is_pending(self) -> bool:
        return self.state == ProposalState.submitted or self.visibility == Visibility.pending

    @property
    def is_hidden(self) -> bool:
        return self.visibility == Visibility.hidden

    @property
    def state_class(self) -> str:
        """CSS class giving each state its own colour (the badge always carries the text too)."""
        return f"proposal-state-{self.state.replace('_', '-')}"

    @property
    def category_label(self) -> str:
        from consulta.organisations.models import CATEGORY_LABELS

        return str(CATEGORY_LABELS.get(self.category, self.category))

    @property
    def author_display_name(self) -> str:
        if self.author is not None:
            return self.author.display_name
        return self.author_name or str(_l("Autore non più registrato"))


def submission_refusal(tavolo, user) -> tuple[int, str] | None:
    """Why `user` may not submit a proposal to `tavolo` now (None when tavolo.can_propose(user)).

    Anonymous users are not covered: the view sends them to the login page.
    """
    if tavolo.can_propose(user):
        return None
    if user.is_blocked:
        return 403, str(_l("Il tuo account è sospeso: puoi leggere ma non presentare proposte."))
    if not user.is_verified:
        return 403, str(_l("Per presentare una proposta devi prima verificare il tuo indirizzo e-mail."))
    if tavolo.phase_allows("propose") and tavolo.deadline_passed():
        return 409, str(_l("Il termine per presentare proposte a questo tavolo è scaduto."))
    if tavolo.phase == "draft":
        return 409, str(_l("Il tavolo è ancora in preparazione: non accetta proposte."))
    return 409, str(_l("Il tavolo è «%(phase)s»: non accetta più nuove proposte.", phase=tavolo.phase_label))
