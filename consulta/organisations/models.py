"""Organisations of the concertazione and who represents them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consulta.core.db import enum_check, enum_column, utcnow
from consulta.core.permissions import is_active_participant, is_admin
from consulta.core.states import Transition, TransitionTable
from consulta.extensions import db

if TYPE_CHECKING:
    from consulta.accounts.models import User
    from consulta.ambito.models import Comune


class OrganisationType(StrEnum):
    union = "union"
    social_coop = "social_coop"
    volunteer = "volunteer"
    aps = "aps"
    third_sector_other = "third_sector_other"
    public_body = "public_body"
    other = "other"


# Stakeholder categories: the organisation types plus citizens.
CATEGORY_LABELS = {
    "union": _l("Organizzazione sindacale"),
    "social_coop": _l("Cooperativa sociale"),
    "volunteer": _l("Organizzazione di volontariato"),
    "aps": _l("Associazione di promozione sociale"),
    "third_sector_other": _l("Altro ente del Terzo settore"),
    "public_body": _l("Ente pubblico"),
    "other": _l("Altro"),
    "citizen": _l("Cittadino/a"),
}
CATEGORIES = tuple(CATEGORY_LABELS)


class OrganisationStatus(StrEnum):
    pending = "pending"
    verified = "verified"
    rejected = "rejected"


ORGANISATION_TRANSITIONS = TransitionTable("status", [
    Transition(OrganisationStatus.pending, OrganisationStatus.verified,
               allowed=lambda org, user: is_admin(user), action="organisation.verify"),
    Transition(OrganisationStatus.pending, OrganisationStatus.rejected,
               allowed=lambda org, user: is_admin(user), action="organisation.reject",
               requires=lambda org, ctx: None if ctx.get("reason") else "Indica il motivo del rifiuto."),
    Transition(OrganisationStatus.rejected, OrganisationStatus.verified,
               allowed=lambda org, user: is_admin(user), action="organisation.verify"),
    Transition(OrganisationStatus.verified, OrganisationStatus.rejected,
               allowed=lambda org, user: is_admin(user), action="organisation.revoke",
               requires=lambda org, ctx: None if ctx.get("reason") else "Indica il motivo della revoca."),
])


class Organisation(db.Model):
    __tablename__ = "organisation"
    __table_args__ = (
        enum_check("type", OrganisationType),
        enum_check("status", OrganisationStatus),
        CheckConstraint("status != 'verified' OR verified_at IS NOT NULL", name="verified_has_date"),
        CheckConstraint("status != 'rejected' OR rejection_reason IS NOT NULL", name="rejected_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = enum_column(OrganisationType)
    tax_code: Mapped[str] = mapped_column(String(16), unique=True)
    runts_number: Mapped[str | None] = mapped_column(String(40))
    comune_id: Mapped[int | None] = mapped_column(ForeignKey("comune.id", ondelete="SET NULL"))
    website: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = enum_column(OrganisationStatus, default=OrganisationStatus.pending)
    verified_at: Mapped[datetime | None]
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    rejection_reason: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    comune: Mapped[Comune | None] = relationship(lazy="joined")
    memberships: Mapped[list[Membership]] = relationship(back_populates="organisation", cascade="all, delete-orphan")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name}>"

    @property
    def is_verified(self) -> bool:
        return self.status == OrganisationStatus.verified

    @property
    def type_label(self) -> str:
        return str(CATEGORY_LABELS[self.type])

    @property
    def is_pending(self) -> bool:
        return self.status == OrganisationStatus.pending

    @property
    def status_label(self) -> str:
        return str(ORGANISATION_STATUS_LABELS[self.status])

    @property
    def has_public_tax_code(self) -> bool:
        """An 11-digit code belongs to a body and is public; a 16-character one is a person's."""
        return len(self.tax_code) == 11 and self.tax_code.isdigit()

    def can_view(self, user) -> bool:
        """Verified organisations are public; the others only admins see."""
        return self.is_verified or is_admin(user)

    def can_review(self, user) -> bool:
        return is_admin(user)

    def can_verify(self, user) -> bool:
        return ORGANISATION_TRANSITIONS.can(self, OrganisationStatus.verified, user)

    def can_reject(self, user) -> bool:
        return ORGANISATION_TRANSITIONS.can(self, OrganisationStatus.rejected, user)

    def can_be_joined_by(self, user) -> bool:
        """Only a verified organisation takes join requests, from someone free to make one."""
        return self.is_verified and Membership.can_request(user)


ORGANISATION_STATUS_LABELS = {
    "pending": _l("In attesa di verifica"),
    "verified": _l("Verificata"),
    "rejected": _l("Respinta"),
}


class MembershipStatus(StrEnum):
    pending = "pending"
    active = "active"
    rejected = "rejected"


class Membership(db.Model):
    """A user's tie to one organisation. One row per user: a user represents at most one organisation."""

    __tablename__ = "membership"
    __table_args__ = (
        enum_check("status", MembershipStatus),
        CheckConstraint("status != 'rejected' OR rejection_reason IS NOT NULL", name="rejected_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    is_representative: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = enum_column(MembershipStatus, default=MembershipStatus.pending)
    rejection_reason: Mapped[str | None] = mapped_column(String(1000))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(back_populates="membership", foreign_keys=[user_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    organisation: Mapped[Organisation] = relationship(back_populates="memberships", lazy="joined")

    @property
    def is_active(self) -> bool:
        return self.status == MembershipStatus.active

    @property
    def is_pending(self) -> bool:
        return self.status == MembershipStatus.pending

    @property
    def is_rejected(self) -> bool:
        return self.status == MembershipStatus.rejected

    @property
    def status_label(self) -> str:
        return str(MEMBERSHIP_STATUS_LABELS[self.status])

    @property
    def is_founder(self) -> bool:
        """The membership of the person who asked to register the organisation."""
        return self.organisation is not None and self.organisation.created_by_id == self.user_id

    @staticmethod
    def can_request(user) -> bool:
        """May `user` ask to create or join an organisation now?

        One membership per user: a pending or active one blocks a new request,
        a rejected one may be replaced.
        """
        if not is_active_participant(user):
            return False
        current = user.membership
        return current is None or current.is_rejected

    def can_review(self, user) -> bool:
        return is_admin(user)

    def can_accept(self, user) -> bool:
        # A new organisation's founder is accepted together with the organisation.
        return self.organisation.is_verified and MEMBERSHIP_TRANSITIONS.can(self, MembershipStatus.active, user)

    def can_reject(self, user) -> bool:
        return MEMBERSHIP_TRANSITIONS.can(self, MembershipStatus.rejected, user)


MEMBERSHIP_STATUS_LABELS = {
    "pending": _l("In attesa di conferma"),
    "active": _l("Attiva"),
    "rejected": _l("Respinta"),
}


def _reason_required(message: str):
    return lambda membership, ctx: None if ctx.get("reason") else message


MEMBERSHIP_TRANSITIONS = TransitionTable("status", [
    Transition(MembershipStatus.pending, MembershipStatus.active,
               allowed=lambda m, user: is_admin(user), action="membership.accept"),
    Transition(MembershipStatus.pending, MembershipStatus.rejected,
               allowed=lambda m, user: is_admin(user), action="membership.reject",
               requires=_reason_required("Indica il motivo del rifiuto.")),
    # Revoking: the person no longer represents the organisation.
    Transition(MembershipStatus.active, MembershipStatus.rejected,
               allowed=lambda m, user: is_admin(user), action="membership.revoke",
               requires=_reason_required("Indica il motivo della revoca.")),
])
