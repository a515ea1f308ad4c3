"""AuditEvent: who did what to which object, written in the same transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consulta.core.db import utcnow
from consulta.core.events import say
from consulta.extensions import db


class AuditEvent(db.Model):
    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_subject", "subject_type", "subject_id"),
        # The public moderation log: a tavolo's acts, newest first, read in index order.
        Index("ix_audit_event_tavolo_at", "tavolo_id", "at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int | None]
    # The tavolo the subject belongs to, when it has one: the public moderation log reads it.
    tavolo_id: Mapped[int | None] = mapped_column(ForeignKey("tavolo.id", ondelete="SET NULL"))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A person's own words, stored as written.
    reason: Mapped[str | None] = mapped_column(String(2000))
    # The system's reason, a key of the event catalogue ("minutes.decision:3"), said when read.
    reason_key: Mapped[str | None] = mapped_column(String(80))

    actor = relationship("User", foreign_keys=[actor_id], lazy="joined")

    @property
    def reason_text(self) -> str | None:
        """The reason in the reader's language: the system's reason put into words, then the person's
        own words as written (rows from before reasons had keys keep their text as it was)."""
        return say(self.reason_key, self.reason)


def subject_key(subject: Any) -> tuple[str, int | None]:
    return getattr(subject, "__tablename__", type(subject).__name__.lower()), getattr(subject, "id", None)


def record(
    actor: Any | None,
    action: str,
    subject: Any,
    changes: dict[str, Any] | None = None,
    *,
    reason: str | None = None,
    reason_key: str | None = None,
    tavolo_id: int | None = None,
) -> AuditEvent:
    """Add an AuditEvent for `action` on `subject`; the caller's commit writes it.

    `changes` is a before/after summary, e.g. {"state": ["submitted", "published"]}. `reason` is a
    person's words; `reason_key` the system's reason, stored as a key (consulta.core.events.reason_key).
    """
    if getattr(subject, "id", None) is None:
        db.session.flush()
    subject_type, subject_id = subject_key(subject)
    if tavolo_id is None:
        tavolo_id = getattr(subject, "tavolo_id", None)
    actor_id = getattr(actor, "id", None) if actor is not None and getattr(actor, "is_authenticated", True) else None
    event = AuditEvent(
        actor_id=actor_id,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        tavolo_id=tavolo_id,
        changes=changes or {},
        reason=reason,
        reason_key=reason_key,
    )
    db.session.add(event)
    return event
