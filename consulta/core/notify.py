"""Notification rows, emitted by operations in the caller's transaction.

The digests read them later; the on-site notifications page lists them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from consulta.core.audit import subject_key
from consulta.core.db import utcnow
from consulta.extensions import db


class Notification(db.Model):
    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_user_pending", "user_id", "digested_at"),
        # The notifications page, newest first, a page at a time (consulta.core.keyset).
        Index("ix_notification_user_created", "user_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int | None]
    tavolo_id: Mapped[int | None] = mapped_column(ForeignKey("tavolo.id", ondelete="SET NULL"))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    digested_at: Mapped[datetime | None]


def emit(
    recipients: Iterable[Any],
    event: str,
    subject: Any,
    *,
    tavolo_id: int | None = None,
    data: dict[str, Any] | None = None,
    exclude: Any | None = None,
) -> int:
    """One Notification per distinct recipient (users or user ids); returns how many."""
    if getattr(subject, "id", None) is None:
        db.session.flush()
    subject_type, subject_id = subject_key(subject)
    if tavolo_id is None:
        tavolo_id = getattr(subject, "tavolo_id", None)
    excluded = getattr(exclude, "id", exclude)
    seen: set[int] = set()
    for recipient in recipients:
        user_id = getattr(recipient, "id", recipient)
        if user_id is None or user_id == excluded or user_id in seen:
            continue
        seen.add(user_id)
        db.session.add(Notification(
            user_id=user_id, event=event, subject_type=subject_type, subject_id=subject_id,
            tavolo_id=tavolo_id, data=data or {},
        ))
    return len(seen)
