"""The outbox: one row per e-mail (a digest or an immediate message), written before it is sent.

Immediate e-mails (verification, password reset, convocations…) are written by
`consulta.core.mail.queue_email` in the request's own transaction; digests by the
digest worker. The same sender delivers both (see docs/mail.md and docs/digests.md).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consulta.core.db import enum_check, enum_column, utcnow
from consulta.core.permissions import is_admin, is_authenticated
from consulta.extensions import db

if TYPE_CHECKING:
    from consulta.accounts.models import User


class OutboxKind(StrEnum):
    digest = "digest"
    immediate = "immediate"   # an e-mail a request queued (verification, reset, convocation…)


class OutboxStatus(StrEnum):
    pending = "pending"        # written, waiting to be sent (first try or a retry after backoff)
    sending = "sending"        # the whole message went to the SMTP server; its answer is not recorded yet
    sent = "sent"
    failed = "failed"          # given up: too many attempts, a permanent refusal or an interrupted send
    cancelled = "cancelled"    # the recipient unsubscribed, was blocked or lost verification before sending


# The delivery lifecycle. It is not a TransitionTable: an outbox row is itself the
# delivery record (attempts, last error, who claimed it, when it was sent), and an
# AuditEvent per delivery step would bury the audit log; human actions on the
# outbox (an admin's "send now", an unsubscribe) are audited by the operations.
OUTBOX_TRANSITIONS: frozenset[tuple[str, str]] = frozenset({
    ("pending", "sending"),     # the message went to the SMTP server, its answer awaited
    ("pending", "failed"),      # refused before the end of the message, no attempts left
    ("pending", "cancelled"),   # the recipient unsubscribed or was blocked meanwhile
    ("sending", "sent"),
    ("sending", "pending"),     # the server refused the message for now: retry later
    ("sending", "failed"),      # refused for good, or interrupted (see docs/digests.md)
    ("failed", "pending"),      # an admin's "send now"
})


OUTBOX_STATUS_LABELS = {
    "pending": _l("In attesa"),
    "sending": _l("In invio"),
    "sent": _l("Inviata"),
    "failed": _l("Non riuscita"),
    "cancelled": _l("Annullata"),
}

OUTBOX_KIND_LABELS = {
    "digest": _l("Riepilogo"),
    "immediate": _l("E-mail"),
}

OUTBOX_STATUS_COLOURS = {
    "pending": "warning",
    "sending": "info",
    "sent": "success",
    "failed": "danger",
    "cancelled": "secondary",
}


class OutboxEmail(db.Model):
    __tablename__ = "outbox_email"
    __table_args__ = (
        # Exactly once: a second digest for the same person and period cannot even be written.
        UniqueConstraint("recipient_id", "kind", "period_key", name="uq_outbox_email_recipient_period"),
        enum_check("kind", OutboxKind),
        enum_check("status", OutboxStatus),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        CheckConstraint("(status = 'sent') = (sent_at IS NOT NULL)", name="sent_has_date"),
        CheckConstraint("status != 'sending' OR claimed_at IS NOT NULL", name="sending_is_claimed"),
        CheckConstraint("status != 'failed' OR last_error IS NOT NULL", name="failed_has_error"),
        # A digest always belongs to one person and one period; immediate e-mails have neither key.
        CheckConstraint("kind != 'digest' OR (recipient_id IS NOT NULL AND period_key IS NOT NULL)",
                        name="digest_has_recipient_period"),
        Index("ix_outbox_email_status_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The person the e-mail is for; None for an address without an account.
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = enum_column(OutboxKind, default=OutboxKind.digest)
    # Digests: "daily:2026-11-23" or "weekly:2026-W48" (dates in Europe/Rome); None for immediate e-mails.
    period_key: Mapped[str | None] = mapped_column(String(32))
    # Immediate e-mails: the template they were rendered from ("accounts/verify_email").
    template: Mapped[str | None] = mapped_column(String(120))
    # The address when the digest was written: a later change of address does not redirect it.
    to_address: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(5), default="it")
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    # Extra headers (List-Unsubscribe, List-Unsubscribe-Post).
    headers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Files attached to an immediate e-mail: [{"filename", "content_type", "content"}] (text content).
    attachments: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    notification_count: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = enum_column(OutboxStatus, default=OutboxStatus.pending)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(String(1000))
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Which worker (host:pid) moved the row to `sending`, and when.
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]

    recipient: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<OutboxEmail {self.id} {self.kind} {self.period_key or self.template} {self.status}>"

    @property
    def kind_label(self) -> str:
        return str(OUTBOX_KIND_LABELS[self.kind])

    def move_to(self, target: str) -> None:
        """The only way the delivery code changes `status`; refuses moves the lifecycle does not have."""
        if self.status == target:
            return
        if (self.status, str(target)) not in OUTBOX_TRANSITIONS:
            raise ValueError(f"outbox row {self.id}: no move {self.status} -> {target}")
        self.status = str(target)

    @property
    def status_label(self) -> str:
        return str(OUTBOX_STATUS_LABELS[self.status])

    @property
    def status_colour(self) -> str:
        return OUTBOX_STATUS_COLOURS[self.status]

    # --- permissions -------------------------------------------------------
    @staticmethod
    def can_view_outbox(user) -> bool:
        return is_admin(user)

    def can_send_now(self, user) -> bool:
        """Admins may push a waiting or failed e-mail out now; a sent one never goes twice."""
        return self.can_view_outbox(user) and self.status in (OutboxStatus.pending, OutboxStatus.failed)


# Notifications (core) and follows (tavoli) are not models of this domain; the questions
# this domain asks about them live here, one predicate each.

def can_manage_notifications(user) -> bool:
    """Any signed-in person has a notifications page and preferences (blocked and unverified too)."""
    return is_authenticated(user)


def can_mark_read(user, notification) -> bool:
    return is_authenticated(user) and notification.user_id == user.id


def can_remove_follow(user, follow) -> bool:
    """Stopping updates is always allowed, but only for one's own follows."""
    return is_authenticated(user) and follow.user_id == user.id
