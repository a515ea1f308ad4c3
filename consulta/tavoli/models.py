"""Tavoli tematici, their draft objectives (with revisions) and follows."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Column, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consulta.core.db import enum_check, enum_column, utcnow
from consulta.core.permissions import (
    facilitates,
    is_active_participant,
    is_admin,
    is_authenticated,
    is_facilitator,
)
from consulta.core.states import Transition, TransitionTable
from consulta.extensions import db

if TYPE_CHECKING:
    from consulta.accounts.models import User
    from consulta.plan.models import Plan


class Phase(StrEnum):
    draft = "draft"
    open = "open"
    discussion = "discussion"
    closed = "closed"


PHASE_LABELS = {
    "draft": _l("In preparazione"),
    "open": _l("Aperto alle proposte"),
    "discussion": _l("In discussione"),
    "closed": _l("Chiuso"),
}


class Moderation(StrEnum):
    pre = "pre"
    post = "post"


class VoteMode(StrEnum):
    person = "person"
    organisation = "organisation"


# Button labels for each move between phases (source, target).
PHASE_MOVE_LABELS = {
    ("draft", "open"): _l("Apri alle proposte"),
    ("open", "draft"): _l("Riporta in preparazione"),
    ("open", "discussion"): _l("Chiudi le proposte e avvia la discussione"),
    ("discussion", "open"): _l("Riapri alle proposte"),
    ("discussion", "closed"): _l("Chiudi il tavolo"),
    ("closed", "discussion"): _l("Riapri la discussione"),
}

# What each phase allows; one predicate per question reads this table.
PHASE_ALLOWS: dict[str, frozenset[str]] = {
    Phase.draft: frozenset(),
    Phase.open: frozenset({"propose", "comment", "vote", "follow"}),
    Phase.discussion: frozenset({"comment", "vote", "follow"}),
    Phase.closed: frozenset({"follow"}),
}


def _admin(tavolo, user) -> bool:
    return is_admin(user)


def _facilitator(tavolo, user) -> bool:
    return facilitates(user, tavolo)


def _all_answered(tavolo, ctx) -> str | None:
    """The response register must be complete before closing, unless an admin overrides with a reason."""
    from flask_babel import ngettext

    from consulta.proposals.register import unanswered_count

    missing = unanswered_count(tavolo.id)
    if not missing:
        return None
    if ctx.get("override") and is_admin(ctx.get("actor")) and (ctx.get("reason") or "").strip():
        return None
    return ngettext(
        "Il tavolo ha ancora %(num)d proposta senza risposta: ogni proposta pubblicata deve ricevere una "
        "risposta motivata prima della chiusura.",
        "Il tavolo ha ancora %(num)d proposte senza risposta: ogni proposta pubblicata deve ricevere una "
        "risposta motivata prima della chiusura.", missing)


TAVOLO_TRANSITIONS = TransitionTable("phase", [
    Transition(Phase.draft, Phase.open, allowed=_admin, action="tavolo.open"),
    Transition(Phase.open, Phase.draft, allowed=_admin, action="tavolo.back_to_draft"),
    Transition(Phase.open, Phase.discussion, allowed=_facilitator, action="tavolo.start_discussion"),
    Transition(Phase.discussion, Phase.open, allowed=_admin, action="tavolo.reopen"),
    Transition(Phase.discussion, Phase.closed, allowed=_facilitator, action="tavolo.close",
               requires=_all_answered),
    Transition(Phase.closed, Phase.discussion, allowed=_admin, action="tavolo.reopen_discussion"),
])


tavolo_facilitator = Table(
    "tavolo_facilitator",
    db.metadata,
    Column("tavolo_id", ForeignKey("tavolo.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
)


class Tavolo(db.Model):
    __tablename__ = "tavolo"
    __table_args__ = (
        enum_check("phase", Phase),
        enum_check("moderation", Moderation),
        enum_check("vote_mode", VoteMode),
        CheckConstraint("quorum IS NULL OR quorum > 0", name="quorum_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    area: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str] = mapped_column(Text, default="")
    phase: Mapped[str] = enum_column(Phase, default=Phase.draft)
    proposal_deadline: Mapped[datetime | None]
    moderation: Mapped[str] = enum_column(Moderation, default=Moderation.post)
    vote_mode: Mapped[str] = enum_column(VoteMode, default=VoteMode.person)
    quorum: Mapped[int | None]
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # What the pages show about the tavolo, kept up to date where it changes (consulta.tavoli.counters)
    # instead of being recounted at every view. Proposals: published, visible and not withdrawn;
    # comments: visible and not deleted; participants: the people behind them and the voters.
    proposals_count: Mapped[int] = mapped_column(default=0, server_default="0")
    comments_count: Mapped[int] = mapped_column(default=0, server_default="0")
    participants_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # The response register: proposals owed an answer (published at some point, not withdrawn, not
    # hidden) and those answered among them.
    register_count: Mapped[int] = mapped_column(default=0, server_default="0")
    answered_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # Proposals anyone may find in the tavolo's list (hidden ones as placeholders): not awaiting moderation.
    listed_count: Mapped[int] = mapped_column(default=0, server_default="0")

    plan: Mapped[Plan] = relationship(back_populates="tavoli")
    facilitators: Mapped[list[User]] = relationship(secondary=tavolo_facilitator, order_by="User.display_name")

    def __repr__(self) -> str:
        return f"<Tavolo {self.slug}>"

    @property
    def tavolo_id(self) -> int:
        # Audit events and notifications file a subject under `subject.tavolo_id`: a tavolo is its own.
        return self.id

    @property
    def phase_label(self) -> str:
        return str(PHASE_LABELS[self.phase])

    def has_facilitator(self, user) -> bool:
        return any(f.id == user.id for f in self.facilitators)

    # --- phase predicates --------------------------------------------------
    def phase_allows(self, action: str) -> bool:
        return action in PHASE_ALLOWS[self.phase]

    def deadline_passed(self, now: datetime | None = None) -> bool:
        return self.proposal_deadline is not None and (now or utcnow()) > self.proposal_deadline

    def accepts_proposals(self, now: datetime | None = None) -> bool:
        return self.phase_allows("propose") and not self.deadline_passed(now)

    # --- permissions -------------------------------------------------------
    def can_view(self, user) -> bool:
        return self.phase != Phase.draft or facilitates(user, self)

    def can_edit(self, user) -> bool:
        return is_admin(user)

    def can_facilitate(self, user) -> bool:
        return facilitates(user, self)

    def can_propose(self, user) -> bool:
        return is_active_participant(user) and self.accepts_proposals()

    def can_comment(self, user) -> bool:
        return is_active_participant(user) and self.phase_allows("comment")

    def can_vote(self, user) -> bool:
        if not (is_active_participant(user) and self.phase_allows("vote")):
            return False
        if self.vote_mode == VoteMode.organisation:
            return user.represented_organisation is not None
        return True

    def can_follow(self, user) -> bool:
        return is_active_participant(user) and self.can_view(user) and self.phase_allows("follow")

    def can_unfollow(self, user) -> bool:
        # Stopping updates is always allowed, also to blocked or unverified users.
        return is_authenticated(user)

    def can_manage_objectives(self, user) -> bool:
        return facilitates(user, self)

    def can_close_unanswered(self, user) -> bool:
        """Only the Ufficio di Piano may close a tavolo whose proposals are not all answered (with a reason)."""
        return is_admin(user)

    def phase_targets(self, user) -> list[str]:
        """Phases `user` may move this tavolo to now (buttons)."""
        return TAVOLO_TRANSITIONS.targets(self, user)

    def phase_move_label(self, target: str) -> str:
        return str(PHASE_MOVE_LABELS.get((self.phase, target), PHASE_LABELS.get(target, target)))

    def propose_obstacle(self, user) -> str | None:
        """Why `user` may not submit a proposal now, as a short code the page explains; None if allowed."""
        if not is_authenticated(user):
            return "login"
        if user.email_verified_at is None:
            return "unverified"
        if user.blocked_at is not None:
            return "blocked"
        if not self.phase_allows("propose"):
            return "phase"
        if self.deadline_passed():
            return "deadline"
        return None

    @property
    def is_draft(self) -> bool:
        return self.phase == Phase.draft

    @staticmethod
    def can_use_facilitation(user) -> bool:
        """The facilitation area: facilitators (for their tavoli) and admins."""
        return is_facilitator(user)


class ObjectiveStatus(StrEnum):
    draft = "draft"
    published = "published"
    approved = "approved"
    dropped = "dropped"


OBJECTIVE_STATUS_LABELS = {
    "draft": _l("Bozza"),
    "published": _l("Pubblicato"),
    "approved": _l("Approvato"),
    "dropped": _l("Ritirato"),
}


OBJECTIVE_MOVE_LABELS = {
    "published": _l("Pubblica"),
    "approved": _l("Approva"),
    "dropped": _l("Ritira"),
}


def _objective_facilitator(objective, user) -> bool:
    return facilitates(user, objective.tavolo)


OBJECTIVE_TRANSITIONS = TransitionTable("status", [
    Transition(ObjectiveStatus.draft, ObjectiveStatus.published, allowed=_objective_facilitator,
               action="objective.publish"),
    Transition(ObjectiveStatus.published, ObjectiveStatus.approved, allowed=_objective_facilitator,
               action="objective.approve"),
    Transition(ObjectiveStatus.published, ObjectiveStatus.dropped, allowed=_objective_facilitator,
               action="objective.drop"),
    Transition(ObjectiveStatus.draft, ObjectiveStatus.dropped, allowed=_objective_facilitator,
               action="objective.drop"),
])


class Objective(db.Model):
    __tablename__ = "objective"
    __table_args__ = (
        enum_check("status", ObjectiveStatus),
        CheckConstraint("status = 'draft' OR published_at IS NOT NULL OR status = 'dropped'", name="published_has_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tavolo_id: Mapped[int] = mapped_column(ForeignKey("tavolo.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = enum_column(ObjectiveStatus, default=ObjectiveStatus.draft)
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    published_at: Mapped[datetime | None]

    tavolo: Mapped[Tavolo] = relationship(lazy="joined")
    revisions: Mapped[list[ObjectiveRevision]] = relationship(
        back_populates="objective", order_by="ObjectiveRevision.number", cascade="all, delete-orphan",
        lazy="select",
    )

    @property
    def status_label(self) -> str:
        return str(OBJECTIVE_STATUS_LABELS[self.status])

    @property
    def is_public(self) -> bool:
        return self.status != ObjectiveStatus.draft

    def can_view(self, user) -> bool:
        return self.tavolo.can_view(user) and (self.is_public or facilitates(user, self.tavolo))

    def can_edit(self, user) -> bool:
        return facilitates(user, self.tavolo) and self.status in (ObjectiveStatus.draft, ObjectiveStatus.published)

    def can_comment(self, user) -> bool:
        return self.status == ObjectiveStatus.published and self.tavolo.can_comment(user)

    def can_vote(self, user) -> bool:
        return self.status == ObjectiveStatus.published and self.tavolo.can_vote(user)

    def status_targets(self, user) -> list[str]:
        """Statuses `user` may move this objective to now (buttons)."""
        return OBJECTIVE_TRANSITIONS.targets(self, user)

    @staticmethod
    def move_label(target: str) -> str:
        return str(OBJECTIVE_MOVE_LABELS.get(target, target))

    def can_change_status(self, user) -> bool:
        return facilitates(user, self.tavolo)

    @property
    def revises_on_edit(self) -> bool:
        """After publication every edit is kept as a revision; drafts edit freely."""
        return self.status != ObjectiveStatus.draft


class ObjectiveRevision(db.Model):
    """The text of an objective as published, then after every later edit."""

    __tablename__ = "objective_revision"
    __table_args__ = (UniqueConstraint("objective_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    objective_id: Mapped[int] = mapped_column(ForeignKey("objective.id", ondelete="CASCADE"))
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(String(500))
    edited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    edited_at: Mapped[datetime] = mapped_column(default=utcnow)

    objective: Mapped[Objective] = relationship(back_populates="revisions")
    edited_by: Mapped[User | None] = relationship(lazy="joined")


class TavoloParticipant(db.Model):
    """How many counted contributions (public proposals and comments, votes) a person has at a tavolo:
    the tavolo's `participants_count` is the number of these rows above zero."""

    __tablename__ = "tavolo_participant"

    tavolo_id: Mapped[int] = mapped_column(ForeignKey("tavolo.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True)
    contributions: Mapped[int] = mapped_column(default=0)


class Follow(db.Model):
    """A participant follows a tavolo or a proposal; the digests read this."""

    __tablename__ = "follow"
    __table_args__ = (
        CheckConstraint("(tavolo_id IS NULL) != (proposal_id IS NULL)", name="one_subject"),
        UniqueConstraint("user_id", "tavolo_id", name="uq_follow_user_tavolo"),
        UniqueConstraint("user_id", "proposal_id", name="uq_follow_user_proposal"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    tavolo_id: Mapped[int | None] = mapped_column(ForeignKey("tavolo.id", ondelete="CASCADE"), index=True)
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
