"""Flags, moderation reasons and the visibility lifecycle of proposals and comments.

Visibility (`pending | visible | hidden`) is orthogonal to a proposal's state. Its
transitions live here, in one table per model, and `VisibilityTable` is the one
place that assigns the `visibility` column.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consulta.comments.models import count_move as count_comment_move
from consulta.core.db import enum_check, enum_column, utcnow
from consulta.core.permissions import facilitates
from consulta.core.states import Transition, TransitionError, TransitionTable, lock_state
from consulta.extensions import db
from consulta.proposals.models import ProposalState, Visibility
from consulta.proposals.models import count_move as count_proposal_move

if TYPE_CHECKING:
    from consulta.accounts.models import User
    from consulta.comments.models import Comment
    from consulta.proposals.models import Proposal


# --------------------------------------------------------------------------- reasons

class ModerationReason(StrEnum):
    off_topic = "off_topic"
    offensive = "offensive"
    spam = "spam"
    personal_data = "personal_data"
    duplicate = "duplicate"
    other = "other"


# Lower-case fragments: the public placeholder reads "Nascosto dal moderatore: <reason>".
REASON_LABELS = {
    "off_topic": _l("fuori tema"),
    "offensive": _l("linguaggio offensivo"),
    "spam": _l("spam o pubblicità"),
    "personal_data": _l("contiene dati personali di terzi"),
    "duplicate": _l("duplicato di un altro contributo"),
    "other": _l("altro motivo"),
}
# A moderator always names one of the five; "other" is for participants' flags (with a note).
HIDE_REASONS = ("off_topic", "offensive", "spam", "personal_data", "duplicate")
FLAG_REASONS = (*HIDE_REASONS, "other")


def reason_label(code: str | None) -> str:
    return str(REASON_LABELS.get(code or "", code or ""))


class FlagResolution(StrEnum):
    upheld = "upheld"  # the content was hidden
    dismissed = "dismissed"  # the content stays (or went back) online


# --------------------------------------------------------------------------- flags

class Flag(db.Model):
    """A participant reports a proposal or a comment, once, with a reason."""

    __tablename__ = "flag"
    __table_args__ = (
        CheckConstraint("(proposal_id IS NULL) != (comment_id IS NULL)", name="one_subject"),
        enum_check("reason", ModerationReason),
        enum_check("resolution", FlagResolution),
        CheckConstraint("(resolved_at IS NULL) = (resolution IS NULL)", name="resolved_has_resolution"),
        CheckConstraint("reason != 'other' OR note IS NOT NULL", name="other_has_note"),
        UniqueConstraint("reporter_id", "proposal_id", name="uq_flag_reporter_proposal"),
        UniqueConstraint("reporter_id", "comment_id", name="uq_flag_reporter_comment"),
        Index("ix_flag_tavolo_open", "tavolo_id", "resolved_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tavolo_id: Mapped[int] = mapped_column(ForeignKey("tavolo.id", ondelete="CASCADE"))
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), index=True)
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comment.id", ondelete="CASCADE"), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = enum_column(ModerationReason)
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    resolution: Mapped[str | None] = enum_column(FlagResolution, nullable=True)

    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id])
    proposal: Mapped[Proposal | None] = relationship()
    comment: Mapped[Comment | None] = relationship()

    @property
    def reason_label(self) -> str:
        return reason_label(self.reason)

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


# --------------------------------------------------------------------------- visibility lifecycle

class _System:
    """The actor of automatic acts (a provisional hide after enough flags): audited with no person."""

    id = None
    is_authenticated = False
    display_name = "sistema"

    def __repr__(self) -> str:
        return "<System>"


SYSTEM = _System()


def _moderator(item, user) -> bool:
    return facilitates(user, item.tavolo)


def _moderator_or_system(item, user) -> bool:
    return user is SYSTEM or _moderator(item, user)


def _publisher(proposal, user) -> bool:
    # As the state table: the author in a post-moderated tavolo (automatic), or a moderator.
    from consulta.proposals.models import PROPOSAL_TRANSITIONS

    return PROPOSAL_TRANSITIONS.find(ProposalState.submitted, ProposalState.published).allowed(proposal, user)


def _needs_reason(item, ctx) -> str | None:
    if not (ctx.get("reason") or "").strip():
        return str(_l("Indica il motivo per cui il contenuto viene nascosto."))
    return None


def _proposal_not_withdrawn(proposal, ctx) -> str | None:
    if proposal.state == ProposalState.withdrawn:
        return str(_l("La proposta è stata ritirata dall'autore: non si può più moderare."))
    return None


def _both(*checks):
    def check(item, ctx):
        for one in checks:
            problem = one(item, ctx)
            if problem:
                return problem
        return None

    return check


class VisibilityTable(TransitionTable):
    """A visibility lifecycle; `move()` also sets it, silently, when a state transition audits the same act."""

    def move(self, obj: Any, target: str, actor: Any, *, context: dict[str, Any] | None = None) -> Transition:
        """Check and set the visibility without an AuditEvent of its own.

        Only for the visibility that goes with a state transition (publishing a proposal), whose
        audit row already records {"visibility": [before, after]}.
        """
        current = lock_state(obj, self.attribute)
        transition = self.find(current, target)
        if transition is None:
            raise TransitionError(str(_l("Passaggio di visibilità non consentito.")), 409)
        if not transition.allowed(obj, actor):
            raise TransitionError(str(_l("Non hai i permessi per questa operazione.")), 403)
        if transition.requires is not None:
            problem = transition.requires(obj, context or {})
            if problem:
                raise TransitionError(problem, 409)
        self.set(obj, transition.target.value, current)
        return transition


PROPOSAL_VISIBILITY = VisibilityTable("visibility", [
    Transition(Visibility.pending, Visibility.visible, allowed=_publisher, action="proposal.approve",
               requires=_proposal_not_withdrawn),
    Transition(Visibility.pending, Visibility.hidden, allowed=_moderator, action="proposal.hide",
               requires=_both(_proposal_not_withdrawn, _needs_reason)),
    Transition(Visibility.visible, Visibility.hidden, allowed=_moderator_or_system, action="proposal.hide",
               requires=_both(_proposal_not_withdrawn, _needs_reason)),
    Transition(Visibility.hidden, Visibility.visible, allowed=_moderator, action="proposal.restore",
               requires=_proposal_not_withdrawn),
], on_change=count_proposal_move)

COMMENT_VISIBILITY = VisibilityTable("visibility", [
    Transition(Visibility.pending, Visibility.visible, allowed=_moderator, action="comment.approve"),
    Transition(Visibility.pending, Visibility.hidden, allowed=_moderator, action="comment.hide",
               requires=_needs_reason),
    Transition(Visibility.visible, Visibility.hidden, allowed=_moderator_or_system, action="comment.hide",
               requires=_needs_reason),
    Transition(Visibility.hidden, Visibility.visible, allowed=_moderator, action="comment.restore"),
], on_change=count_comment_move)


def visibility_table(item) -> VisibilityTable:
    return PROPOSAL_VISIBILITY if item.__tablename__ == "proposal" else COMMENT_VISIBILITY
