"""Digest and notification operations: each changes objects and flushes; the caller commits.

The digest worker (sender.py) commits after each batch of recipients and each message,
so that one crash loses at most the message in flight (see docs/digests.md).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, func, insert, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import lazyload

from consulta.accounts.models import User
from consulta.core import audit, layout
from consulta.core.db import utcnow
from consulta.core.notify import Notification
from consulta.digests.builder import (
    FREQUENCIES,
    Digest,
    DigestBatch,
    has_moderation_queue,
    pending_notifications_of,
    period_key,
)
from consulta.digests.models import OutboxEmail, OutboxKind, OutboxStatus
from consulta.digests.settings import setting
from consulta.extensions import db
from consulta.tavoli.models import Follow, Phase, Tavolo

# Any constant works: it only has to be the same for every digest worker.
DEADLINE_LOCK_KEY = 7_240_318


# --------------------------------------------------------------------------- on-site notifications

def notification_count(user) -> int:
    """Unread notifications of `user` (0 for anonymous): for a badge in the header."""
    if not getattr(user, "is_authenticated", False):
        return 0
    kept = layout.kept_unread()  # read along with the page's main query (consulta.core.layout)
    if kept is not None:
        return kept
    return db.session.execute(
        select(func.count()).select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))).scalar_one()


def mark_read(user: User, notification: Notification) -> None:
    """The caller checked `can_mark_read(user, notification)`."""
    if notification.read_at is None:
        notification.read_at = utcnow()
    db.session.flush()


def mark_all_read(user: User) -> int:
    result = db.session.execute(
        update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow()).execution_options(synchronize_session=False))
    db.session.flush()
    return result.rowcount or 0


# --------------------------------------------------------------------------- preferences

def update_preferences(user: User, *, digest_frequency: str, locale: str) -> dict[str, list[str]]:
    changes = {}
    if user.digest_frequency != digest_frequency:
        changes["digest_frequency"] = [user.digest_frequency, digest_frequency]
        user.digest_frequency = digest_frequency
    if user.locale != locale:
        changes["locale"] = [user.locale, locale]
        user.locale = locale
    db.session.flush()
    return changes


def unsubscribe(user: User) -> bool:
    """Stop the digests (the one-click link). Returns False if they were already off."""
    if user.digest_frequency == "off":
        return False
    audit.record(user, "digest.unsubscribe", user, {"digest_frequency": [user.digest_frequency, "off"]})
    user.digest_frequency = "off"
    db.session.flush()
    return True


def remove_follow(user: User, follow: Follow) -> None:
    """Unfollow a tavolo or a proposal from the preferences page (the caller checked `can_remove_follow`)."""
    db.session.execute(delete(Follow).where(Follow.id == follow.id, Follow.user_id == user.id))
    db.session.flush()


# --------------------------------------------------------------------------- deadline warnings

def emit_deadline_notices(now: datetime | None = None) -> int:
    """One `tavolo.deadline_soon` per follower of each open tavolo whose deadline is near,
    at most once per tavolo and person (ever). Returns how many were written."""
    now = now or utcnow()
    if db.engine.dialect.name == "postgresql":
        # Two workers starting together must not both warn the same followers.
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": DEADLINE_LOCK_KEY})
    horizon = now + timedelta(days=int(setting("DIGEST_DEADLINE_DAYS")))
    tavoli = db.session.execute(
        select(Tavolo.id, Tavolo.proposal_deadline).where(
            Tavolo.phase == Phase.open, Tavolo.proposal_deadline.is_not(None),
            Tavolo.proposal_deadline > now, Tavolo.proposal_deadline <= horizon)).all()
    written = 0
    for tavolo_id, deadline in tavoli:
        already = exists().where(Notification.user_id == Follow.user_id, Notification.tavolo_id == tavolo_id,
                                 Notification.event == "tavolo.deadline_soon")
        followers = db.session.execute(
            select(Follow.user_id).where(Follow.tavolo_id == tavolo_id, ~already)).scalars().all()
        if not followers:
            continue
        rows = [{"user_id": uid, "event": "tavolo.deadline_soon", "subject_type": "tavolo", "subject_id": tavolo_id,
                 "tavolo_id": tavolo_id, "data": {"deadline": deadline.isoformat()}, "created_at": now}
                for uid in followers]
        db.session.execute(insert(Notification), rows)
        written += len(rows)
    db.session.flush()
    return written


# --------------------------------------------------------------------------- who is due

def _eligible():
    return and_(User.email_verified_at.is_not(None), User.blocked_at.is_(None))


def _not_yet_sent(frequencies: tuple[str, ...], now: datetime):
    clauses = []
    for frequency in frequencies:
        key = period_key(frequency, now)
        clauses.append(and_(User.digest_frequency == frequency, ~exists().where(
            OutboxEmail.recipient_id == User.id, OutboxEmail.kind == OutboxKind.digest,
            OutboxEmail.period_key == key)))
    return or_(*clauses)


def _has_news(now: datetime):
    lookback = now - timedelta(days=int(setting("DIGEST_LOOKBACK_DAYS")))
    return exists().where(Notification.user_id == User.id, Notification.digested_at.is_(None),
                          Notification.created_at >= lookback)


def _due(frequencies: tuple[str, ...], now: datetime):
    """Verified, unblocked people whose frequency matches, with something new (or a moderation
    queue) and no digest yet for the current period."""
    return and_(_eligible(), User.digest_frequency.in_(frequencies), _not_yet_sent(frequencies, now),
                or_(_has_news(now), has_moderation_queue()))


def due_recipient_count(frequencies: tuple[str, ...] = FREQUENCIES, now: datetime | None = None) -> int:
    return db.session.execute(select(func.count()).select_from(User).where(_due(frequencies, now or utcnow()))
                              ).scalar_one()


def due_recipients(frequencies: tuple[str, ...], now: datetime, *, after: int, size: int,
                   lock: bool) -> list[User]:
    """The next `size` people due a digest, in id order after the id `after` (keyset: each batch
    costs the same). With `lock` they are claimed for this worker until the batch's commit
    (PostgreSQL: FOR NO KEY UPDATE SKIP LOCKED): parallel workers split the recipients, and the
    checks above hold under the lock."""
    query = (select(User).options(lazyload(User.comune)).where(_due(frequencies, now), User.id > after)
             .order_by(User.id).limit(size))
    if lock:
        # NO KEY UPDATE: new notifications (a foreign key to the user) may still be written meanwhile.
        query = query.with_for_update(skip_locked=True, key_share=True, of=User)
    return list(db.session.execute(query).scalars())


def write_digests(users: list[User], now: datetime) -> tuple[list[int], int]:
    """Build and write the digests of a batch of people claimed by due_recipients, in the caller's
    transaction, with a number of statements that does not depend on how many they are. Returns the
    ids of the outbox rows written and how many people got none."""
    notifications = pending_notifications_of([user.id for user in users])
    digests = DigestBatch(users, notifications, now).digests()
    written = _store_digests(digests, now)
    # Consumed: what a digest just written includes, and what nobody may see any more (an empty digest,
    # no e-mail). A digest of this period written meanwhile by someone else leaves theirs waiting.
    waiting = {digest.recipient.id for digest in digests} - set(written.values())
    consume_notifications([note.id for user_id, notes in notifications.items() if user_id not in waiting
                           for note in notes], now)
    return sorted(written), len(users) - len(written)


def _store_digests(digests: list[Digest], now: datetime) -> dict[int, int]:
    """The outbox rows of a batch, with one INSERT; a person whose digest for the period exists
    already (another worker, an admin's "send now" meanwhile) is left out by the unique constraint.
    Returns {row id: recipient id} of the rows written."""
    if not digests:
        return {}
    table = OutboxEmail.__table__
    # INSERT … ON CONFLICT DO NOTHING exists on both backends, under two names.
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).on_conflict_do_nothing(
        index_elements=["recipient_id", "kind", "period_key"]).returning(table.c.id, table.c.recipient_id)
    return dict(db.session.execute(statement, [_outbox_values(digest, now) for digest in digests]).all())


def _outbox_values(digest: Digest, now: datetime) -> dict:
    return {"recipient_id": digest.recipient.id, "kind": OutboxKind.digest, "period_key": digest.period_key,
            "to_address": digest.recipient.email, "locale": digest.recipient.locale or "it",
            "subject": digest.subject[:300], "body_text": digest.text, "body_html": digest.html,
            "headers": digest.headers, "notification_count": len(digest.notification_ids),
            "status": OutboxStatus.pending, "attempts": 0, "next_attempt_at": now, "created_at": now}


def store_digest(digest: Digest, now: datetime | None = None) -> OutboxEmail:
    """Write the outbox row and mark its notifications digested — in the caller's transaction,
    before anything is sent: that is what makes a digest exactly-once."""
    now = now or utcnow()
    row = OutboxEmail(**_outbox_values(digest, now))
    db.session.add(row)
    consume_notifications(digest.notification_ids, now)
    db.session.flush()
    return row


def consume_notifications(ids: list[int], now: datetime) -> None:
    """Mark these notifications digested: one UPDATE for a whole batch of digests (5,000 at a time)."""
    table = Notification.__table__
    for start in range(0, len(ids), 5000):
        db.session.execute(update(table).where(table.c.id.in_(ids[start:start + 5000]), table.c.digested_at.is_(None))
                           .values(digested_at=now))


# --------------------------------------------------------------------------- outbox rows

def cancel_reason(user: User | None, row: OutboxEmail | None = None) -> str | None:
    """Why a written e-mail must not go out any more (in Italian, for the admin view).

    Immediate e-mails go out whatever the account's state: they were written for this very
    moment (a verification link is for an unverified address, an address may have no account)."""
    if row is not None and row.kind != OutboxKind.digest:
        return None
    if user is None:
        return "Account eliminato."
    if user.blocked_at is not None:
        return "Account sospeso prima dell'invio."
    if user.email_verified_at is None:
        return "Indirizzo e-mail non più verificato."
    if user.digest_frequency == "off":
        return "Riepiloghi disattivati prima dell'invio."
    return None


def record_attempt_failure(row: OutboxEmail, error: str, *, permanent: bool, now: datetime | None = None) -> None:
    """One more failed attempt: back off exponentially, or give up and report."""
    now = now or utcnow()
    row.attempts += 1
    row.last_error = error[:1000]
    row.claimed_by = None
    row.claimed_at = None
    digest = row.kind == OutboxKind.digest
    max_attempts = int(setting("DIGEST_MAX_ATTEMPTS" if digest else "MAIL_MAX_ATTEMPTS"))
    base = float(setting("DIGEST_RETRY_BASE_SECONDS" if digest else "MAIL_RETRY_BASE_SECONDS"))
    if permanent or row.attempts >= max_attempts:
        row.move_to(OutboxStatus.failed)
    else:
        row.move_to(OutboxStatus.pending)
        row.next_attempt_at = now + timedelta(seconds=base * 2 ** (row.attempts - 1))
    db.session.flush()


class SendNowRefused(Exception):
    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.message = message
        self.status = status


def prepare_send_now(user: User, actor: User, now: datetime | None = None) -> OutboxEmail | None:
    """The admin's "send now" for one person, still exactly once for the current period.

    Returns the outbox row to deliver (a waiting or failed one of this period, or a new one);
    None when there is nothing new to say. Raises SendNowRefused otherwise.
    """
    from flask_babel import gettext as _

    from consulta.digests.builder import build_digest, pending_notifications

    now = now or utcnow()
    if user.blocked_at is not None:
        raise SendNowRefused(_("Non si può inviare il riepilogo a %(email)s: l'account è sospeso.", email=user.email))
    if user.email_verified_at is None:
        raise SendNowRefused(_("Non si può inviare il riepilogo a %(email)s: l'indirizzo non è ancora verificato.",
                               email=user.email))
    if user.digest_frequency == "off":
        raise SendNowRefused(_("Non si può inviare il riepilogo a %(email)s: ha disattivato i riepiloghi.",
                               email=user.email))
    frequency = user.digest_frequency
    key = period_key(frequency, now)
    row = db.session.execute(
        select(OutboxEmail).where(OutboxEmail.recipient_id == user.id, OutboxEmail.kind == OutboxKind.digest,
                                  OutboxEmail.period_key == key).with_for_update()).scalar_one_or_none()
    if row is not None:
        if row.status == OutboxStatus.sent:
            raise SendNowRefused(_("Il riepilogo di questo periodo (%(period)s) è già stato inviato a %(email)s: "
                                   "le novità successive andranno nel prossimo.", period=key, email=user.email))
        if row.status == OutboxStatus.sending:
            raise SendNowRefused(_("Questo riepilogo è in invio proprio ora: controlla fra qualche minuto."))
        if row.status == OutboxStatus.cancelled:
            raise SendNowRefused(_("Il riepilogo di questo periodo è stato annullato e non può essere inviato."))
        before = row.status
        row.move_to(OutboxStatus.pending)
        row.next_attempt_at = now
        audit.record(actor, "outbox.send_now", row, {"status": [before, row.status]})
        db.session.flush()
        return row
    digest = build_digest(user, frequency, key, pending_notifications(user.id), now)
    if digest.is_empty:
        consume_notifications(digest.notification_ids, now)
        db.session.flush()
        return None
    row = store_digest(digest, now)
    audit.record(actor, "outbox.send_now", row, {"status": [None, row.status]})
    return row


def resend_row(row: OutboxEmail, actor: User, now: datetime | None = None) -> None:
    """An admin pushes one waiting or failed e-mail out now (the caller checked `row.can_send_now`):
    the row is due at once, and the sender (`flask send-mail`) delivers it within seconds."""
    before = row.status
    row.move_to(OutboxStatus.pending)
    row.next_attempt_at = now or utcnow()
    audit.record(actor, "outbox.send_now", row, {"status": [before, row.status]})
    db.session.flush()
