"""Votes on proposals and published objectives."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from consulta.core.db import enum_check, enum_column, utcnow
from consulta.extensions import db


class VoteValue(StrEnum):
    for_ = "for"
    against = "against"
    abstain = "abstain"


VOTE_LABELS = {
    "for": _l("Favorevole"),
    "against": _l("Contrario"),
    "abstain": _l("Astenuto"),
}


class Vote(db.Model):
    """One ballot per voter and subject.

    `ballot_key` is "person:<user id>" or, when the tavolo votes by organisation,
    "organisation:<organisation id>"; the unique constraints on it make a double
    vote impossible, also between concurrent requests.
    """

    __tablename__ = "vote"
    __table_args__ = (
        CheckConstraint("(objective_id IS NULL) != (proposal_id IS NULL)", name="one_subject"),
        enum_check("value", VoteValue),
        UniqueConstraint("proposal_id", "ballot_key", name="uq_vote_proposal_ballot"),
        UniqueConstraint("objective_id", "ballot_key", name="uq_vote_objective_ballot"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tavolo_id: Mapped[int] = mapped_column(ForeignKey("tavolo.id", ondelete="CASCADE"), index=True)
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"))
    objective_id: Mapped[int | None] = mapped_column(ForeignKey("objective.id", ondelete="CASCADE"))
    ballot_key: Mapped[str] = mapped_column(String(40))
    voter_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id", ondelete="SET NULL"))
    # Stakeholder category of the ballot: tallies group by it in SQL.
    category: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = enum_column(VoteValue)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
