"""User accounts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consulta.core import permissions
from consulta.core.db import enum_check, enum_column, utcnow
from consulta.extensions import db

if TYPE_CHECKING:
    from consulta.ambito.models import Comune
    from consulta.organisations.models import Membership


class Role(StrEnum):
    participant = "participant"
    facilitator = "facilitator"
    admin = "admin"


ROLE_LABELS = {
    "participant": _l("Partecipante"),
    "facilitator": _l("Facilitatore/facilitatrice"),
    "admin": _l("Amministratore/amministratrice"),
}


class RegisteredAs(StrEnum):
    citizen = "citizen"
    representative = "representative"


class DigestFrequency(StrEnum):
    off = "off"
    daily = "daily"
    weekly = "weekly"


class Locale(StrEnum):
    it = "it"
    en = "en"


_production_hasher = PasswordHasher()
# Tests hash hundreds of passwords: same algorithm (argon2id), cheaper parameters.
_fast_hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def _hasher() -> PasswordHasher:
    return _fast_hasher if current_app.config.get("PASSWORD_HASH_FAST") else _production_hasher


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


class User(UserMixin, db.Model):
    __tablename__ = "user"
    __table_args__ = (
        # E-mails are stored lower-cased, so the unique constraint is case-insensitive.
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        enum_check("role", Role),
        enum_check("registered_as", RegisteredAs),
        enum_check("digest_frequency", DigestFrequency),
        enum_check("locale", Locale),
        CheckConstraint("(blocked_at IS NULL) = (blocked_reason IS NULL)", name="blocked_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = enum_column(Role, default=Role.participant)
    registered_as: Mapped[str] = enum_column(RegisteredAs, default=RegisteredAs.citizen)
    # None means "altro": resident outside the Ambito.
    comune_id: Mapped[int | None] = mapped_column(ForeignKey("comune.id", ondelete="SET NULL"))
    email_verified_at: Mapped[datetime | None]
    blocked_at: Mapped[datetime | None]
    blocked_reason: Mapped[str | None] = mapped_column(String(500))
    digest_frequency: Mapped[str] = enum_column(DigestFrequency, default=DigestFrequency.weekly)
    locale: Mapped[str] = enum_column(Locale, default=Locale.it)
    privacy_consent_at: Mapped[datetime]
    # Bumped on logout, password change and block: every older session stops working.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    comune: Mapped[Comune | None] = relationship(lazy="joined")
    membership: Mapped[Membership | None] = relationship(
        back_populates="user", uselist=False, lazy="select", cascade="all, delete-orphan",
        foreign_keys="Membership.user_id",
    )

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"

    # --- Flask-Login -------------------------------------------------------
    def get_id(self) -> str:
        # The session version travels in the session and the remember cookie,
        # so bumping it invalidates every copy of them.
        return f"{self.id}:{self.session_version}"

    @classmethod
    def from_session_id(cls, value: str) -> User | None:
        try:
            raw_id, raw_version = value.split(":", 1)
            user_id, version = int(raw_id), int(raw_version)
        except (ValueError, AttributeError):
            return None
        user = db.session.get(cls, user_id)
        if user is None or user.session_version != version:
            return None
        return user

    def end_all_sessions(self) -> None:
        self.session_version = (self.session_version or 1) + 1

    # --- passwords ---------------------------------------------------------
    def set_password(self, password: str) -> None:
        self.password_hash = _hasher().hash(password)

    def check_password(self, password: str) -> bool:
        try:
            return _hasher().verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    @staticmethod
    def burn_password_check(password: str) -> None:
        """Spend the same time as a real check, so unknown e-mails are not revealed by timing."""
        _hasher().hash(password)

    # --- state -------------------------------------------------------------
    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def is_blocked(self) -> bool:
        return self.blocked_at is not None

    @property
    def may_act(self) -> bool:
        """Verified and not blocked: see consulta.core.permissions.may_act, the one definition."""
        return permissions.may_act(self)

    @property
    def is_admin(self) -> bool:
        """An admin who may act (a blocked or unverified admin has no admin power)."""
        return permissions.is_admin(self)

    @property
    def is_facilitator(self) -> bool:
        return permissions.is_facilitator(self)

    @property
    def can_contribute(self) -> bool:
        return permissions.may_act(self)

    @property
    def represented_organisation(self):
        """The verified organisation this user currently represents, if any."""
        m = self.membership
        if m is not None and m.is_active and m.is_representative and m.organisation.is_verified:
            return m.organisation
        return None

    @property
    def stakeholder_category(self) -> str:
        """The concertazione category a contribution of this user counts under."""
        org = self.represented_organisation
        return org.type if org is not None else "citizen"

    @classmethod
    def by_email(cls, email: str) -> User | None:
        return db.session.execute(select(cls).where(cls.email == normalise_email(email))).scalar_one_or_none()
