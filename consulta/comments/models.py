"""Comments on objectives and proposals, with one level of replies."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ColumnElement, ForeignKey, Index, String, Text, and_, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consulta.core.db import enum_check, enum_column, utcnow
from consulta.core.events import stored_text
from consulta.core.permissions import facilitates, is_active_participant, is_authenticated, may_act
from consulta.extensions import db
from consulta.proposals.models import Visibility, count_on_proposal
from consulta.tavoli import counters as tavolo_counters

if TYPE_CHECKING:
    from consulta.accounts.models import User
    from consulta.organisations.models import Organisation
    from consulta.proposals.models import Proposal
    from consulta.tavoli.models import Objective, Tavolo


class Stance(StrEnum):
    in_favour = "in_favour"
    neutral = "neutral"
    against = "against"


STANCE_LABELS = {
    "in_favour": _l("A favore"),
    "neutral": _l("Neutrale"),
    "against": _l("Contrario"),
}


def is_counted(visibility: str, deleted_at: datetime | None) -> bool:
    """A comment counts (on its proposal's card, in its tavolo's figures) while public: visible, not deleted."""
    return visibility == Visibility.visible and deleted_at is None


def counted_sql() -> ColumnElement[bool]:
    """`is_counted` as an SQL condition on Comment."""
    return and_(Comment.visibility == Visibility.visible.value, Comment.deleted_at.is_(None))


def count(comment: Comment, delta: int) -> None:
    """The comment starts (+1) or stops (-1) counting: its proposal, its author's participation, its tavolo."""
    if comment.proposal_id is not None:
        count_on_proposal(comment.proposal_id, comments=delta)
    tavolo_counters.take_part(comment.tavolo_id, comment.author_id, delta)
    tavolo_counters.count(comment.tavolo_id, comments_count=delta)


def count_move(comment: Comment, attribute: str, before: str) -> None:
    """After a move of visibility (COMMENT_VISIBILITY): the counters follow."""
    delta = int(is_counted(comment.visibility, comment.deleted_at)) - int(is_counted(before, comment.deleted_at))
    if delta:
        count(comment, delta)


class Comment(db.Model):
    __tablename__ = "comment"
    __table_args__ = (
        CheckConstraint("(objective_id IS NULL) != (proposal_id IS NULL)", name="one_subject"),
        enum_check("stance", Stance),
        enum_check("visibility", Visibility),
        CheckConstraint("visibility != 'hidden' OR hidden_reason IS NOT NULL", name="hidden_has_reason"),
        CheckConstraint("parent_id IS NULL OR parent_id != id", name="not_own_parent"),
        CheckConstraint("NOT hidden_by_flags OR visibility = 'hidden'", name="flag_hide_is_hidden"),
        Index("ix_comment_proposal_created", "proposal_id", "created_at"),
        Index("ix_comment_objective_created", "objective_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tavolo_id: Mapped[int] = mapped_column(ForeignKey("tavolo.id", ondelete="CASCADE"), index=True)
    objective_id: Mapped[int | None] = mapped_column(ForeignKey("objective.id", ondelete="CASCADE"))
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comment.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id", ondelete="SET NULL"))
    category: Mapped[str] = mapped_column(String(20), default="citizen")
    stance: Mapped[str | None] = enum_column(Stance, nullable=True)
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    visibility: Mapped[str] = enum_column(Visibility, default=Visibility.visible)
    # Why it is hidden: a reason of the event catalogue ("moderation.spam"), and the moderator's own words.
    hidden_reason: Mapped[str | None] = mapped_column(String(500))
    hidden_note: Mapped[str | None] = mapped_column(String(500))
    # Hidden automatically by participants' flags, until a moderator reviews it.
    hidden_by_flags: Mapped[bool] = mapped_column(default=False, server_default=false())
    deleted_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    tavolo: Mapped[Tavolo] = relationship()
    objective: Mapped[Objective | None] = relationship()
    proposal: Mapped[Proposal | None] = relationship()
    parent: Mapped[Comment | None] = relationship(remote_side=[id])
    author: Mapped[User | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()

    @property
    def subject(self):
        return self.proposal if self.proposal_id is not None else self.objective

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def stance_label(self) -> str | None:
        return str(STANCE_LABELS[self.stance]) if self.stance else None

    def is_author(self, user) -> bool:
        return is_authenticated(user) and self.author_id == user.id

    def can_view(self, user) -> bool:
        if self.visibility == Visibility.pending:
            return self.is_author(user) or facilitates(user, self.tavolo)
        return True

    @property
    def hidden_reason_text(self) -> str | None:
        """Why it is hidden, in the reader's language."""
        return stored_text(self.hidden_reason, self.hidden_note)

    def can_read_text(self, user) -> bool:
        if self.is_deleted:
            return False
        if self.visibility == Visibility.hidden:
            return self.is_author(user) or facilitates(user, self.tavolo)
        return self.can_view(user)

    def within_grace(self, now: datetime | None = None) -> bool:
        minutes = current_app.config.get("EDIT_GRACE_MINUTES", 30)
        return (now or utcnow()) <= self.created_at + timedelta(minutes=minutes)

    def can_edit(self, user) -> bool:
        return (self.is_author(user) and is_active_participant(user) and not self.is_deleted
                and self.within_grace() and self.tavolo.phase_allows("comment"))

    def can_delete(self, user) -> bool:
        return self.is_author(user) and not self.is_deleted and may_act(user)

    def can_moderate(self, user) -> bool:
        """May approve, hide or restore this comment and see its flags."""
        return facilitates(user, self.tavolo)

    def can_flag(self, user) -> bool:
        """A verified participant reports someone else's public comment."""
        return (is_active_participant(user) and not self.is_author(user) and not self.is_deleted
                and self.visibility == Visibility.visible and self.tavolo.can_view(user))

    def can_reply(self, user) -> bool:
        # One level of replies only.
        return self.parent_id is None and not self.is_deleted and self.visibility == Visibility.visible and (
            self.subject.can_comment(user))
