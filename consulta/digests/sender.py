"""The outbox sender: delivers every e-mail exactly once; the digest worker builds digests into it.

Immediate e-mails (verification, password reset, convocations…) are written into the
outbox by the request that causes them (core/mail.py, in the request's transaction) and
delivered by `flask send-mail` (MailRun below, steps 2–4); digests are built and delivered
by `flask send-digests` (DigestRun, steps 1–4). A request never talks to SMTP.

How a digest travels (every step is its own short transaction):

1. A batch of recipients (DIGEST_BATCH_SIZE, in id order) is locked (PostgreSQL:
   FOR NO KEY UPDATE SKIP LOCKED, so parallel workers split the recipients); their
   outbox rows are written and the notifications they include marked digested, in
   ONE commit per batch, with a number of statements that does not depend on the
   batch's size. A row is unique per (recipient, kind, period): a second digest
   cannot be written. The batch is delivered (steps 2–4) before the next is built.
2. The row is claimed with SELECT … FOR UPDATE SKIP LOCKED and the whole message
   is handed to the SMTP server except the final end-of-data dot, over the one
   connection the worker keeps open (reopened once if the server has ended it).
   A crash up to here leaves the row `pending` and the server discards the
   unfinished message, so the next run sends it: nothing lost, nothing doubled.
3. The row is committed as `sending` (claimed_by/claimed_at), then the dot goes
   out. The server answers 250: the row becomes `sent` in the next commit — the
   next message's `sending`, or the worker's commit before it builds a batch or
   stops —, so each message costs one commit. A negative answer (4xx, connection
   trouble before the dot) is an attempt: retried with exponential backoff up to
   DIGEST_MAX_ATTEMPTS, then `failed`; 5xx is `failed` at once. Failures are
   counted in the summary and listed in the admin outbox.
4. A crash between the dot and the commit of `sent` (the time of one more SMTP
   exchange, at most) leaves one `sending` row whose delivery is unknown.
   Resending it could double it, not resending could lose it: by default
   (DIGEST_RESEND_INTERRUPTED off) such a row, once older than
   DIGEST_SENDING_TIMEOUT, is marked `failed` with the reason and shown to the
   admins, who can "send now" (at most once plus a human decision); with the
   setting on it is sent again (at least once). docs/digests.md explains the
   trade-off, and why `sending` cannot be committed for a whole batch at once.
"""

from __future__ import annotations

import os
import re
import smtplib
import socket
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path

from flask import current_app
from sqlalchemy import func, or_, select, update

from consulta.accounts.models import User
from consulta.core.db import utcnow
from consulta.digests.builder import FREQUENCIES, DigestBatch, pending_notifications_of
from consulta.digests.models import OUTBOX_TRANSITIONS, OutboxEmail, OutboxKind, OutboxStatus
from consulta.digests.operations import (
    cancel_reason,
    due_recipient_count,
    due_recipients,
    emit_deadline_notices,
    record_attempt_failure,
    write_digests,
)
from consulta.digests.settings import setting
from consulta.extensions import db

INTERRUPTED_ERROR = ("Invio interrotto dopo la trasmissione del messaggio: il server non ha confermato la "
                     "consegna. Non viene reinviato da solo per non mandarlo due volte; usa «Invia ora» se "
                     "il destinatario non l'ha ricevuto.")


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


# --------------------------------------------------------------------------- SMTP

class SMTPFailure(Exception):
    """A delivery attempt that did not end with 250.

    permanent: the server refused for good (5xx); connection: the server could not be
    reached or dropped us; ambiguous: the message was complete but no answer came back.
    """

    def __init__(self, message: str, *, permanent: bool = False, connection: bool = False,
                 ambiguous: bool = False):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.connection = connection
        self.ambiguous = ambiguous


def _reply_text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


class SMTPLink:
    """One SMTP connection reused for a whole run, speaking the message in two halves."""

    def __init__(self):
        config = current_app.config
        self.host = config.get("MAIL_SERVER", "localhost")
        self.port = int(config.get("MAIL_PORT", 25))
        self.use_ssl = bool(config.get("MAIL_USE_SSL"))
        self.use_tls = bool(config.get("MAIL_USE_TLS"))
        self.username = config.get("MAIL_USERNAME")
        self.password = config.get("MAIL_PASSWORD")
        self.suppress = bool(config.get("MAIL_SUPPRESS_SEND"))
        # Development only: with no SMTP server answering, messages are filed here (see /_dev/posta).
        self.dev_dir = config.get("MAIL_DEV_DIR")
        # Every socket operation (connect, greeting, each command) gives up after this long:
        # an SMTP server that accepts and never answers cannot hold a sender.
        self.timeout = float(setting("SMTP_TIMEOUT"))
        self.smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        factory = smtplib.SMTP_SSL if self.use_ssl else smtplib.SMTP
        try:
            smtp = factory(self.host, self.port, timeout=self.timeout)
            # The message goes out in two writes (body, then the final dot): without NODELAY,
            # Nagle's algorithm and delayed ACKs would add up to 40 ms per message.
            smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            smtp.ehlo()
            if self.use_tls:
                smtp.starttls()
                smtp.ehlo()
            if self.username:
                smtp.login(self.username, self.password or "")
        except (OSError, smtplib.SMTPException) as exc:
            raise SMTPFailure(f"Server SMTP {self.host}:{self.port} non raggiungibile: {exc}",
                              connection=True) from None
        self.smtp = smtp
        return smtp

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()
            self.smtp = None

    def _drop(self) -> None:
        if self.smtp is not None:
            self.smtp.close()
            self.smtp = None

    def _refused(self, stage: str, code: int, reply: bytes) -> SMTPFailure:
        if self.smtp is not None:
            try:
                self.smtp.rset()
            except (OSError, smtplib.SMTPException):
                self._drop()
        return SMTPFailure(f"Il server SMTP ha rifiutato ({stage}): {code} {_reply_text(reply)}",
                           permanent=500 <= code < 600)

    def _envelope(self, smtp: smtplib.SMTP, sender: str, recipient: str, data: bytes) -> None:
        code, reply = smtp.mail(sender)
        if code == 421:  # the server is closing the connection (too many messages, idle too long)
            raise smtplib.SMTPServerDisconnected(f"{code} {_reply_text(reply)}")
        if code != 250:
            raise self._refused("MAIL FROM", code, reply)
        code, reply = smtp.rcpt(recipient)
        if code not in (250, 251):
            raise self._refused("RCPT TO", code, reply)
        code, reply = smtp.docmd("DATA")
        if code != 354:
            raise self._refused("DATA", code, reply)
        # Everything but the terminating dot: until the dot, the server keeps nothing.
        smtp.send(data)

    def transmit(self, sender: str, recipient: str, message: bytes, at_end_of_data: Callable[[], None]) -> None:
        """Send `message`; `at_end_of_data` runs after the body is transmitted, before the final dot."""
        if self.suppress:
            at_end_of_data()
            return
        data = re.sub(rb"(?m)^\.", b"..", message)
        if not data.endswith(b"\r\n"):
            data += b"\r\n"
        if not recipient.isascii():
            # smtplib speaks no SMTPUTF8: such an address cannot be delivered by this sender.
            raise SMTPFailure(f"Indirizzo con caratteri non ASCII non supportato: {recipient}", permanent=True)
        reused = self.smtp is not None
        try:
            smtp = self.smtp or self._connect()
        except SMTPFailure:
            if not self.dev_dir:
                raise
            file_in_dev_mailbox(self.dev_dir, recipient, message)
            at_end_of_data()
            return
        try:
            self._envelope(smtp, sender, recipient, data)
        except SMTPFailure:
            raise
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            if not reused:
                raise SMTPFailure(f"Connessione SMTP interrotta: {exc}", connection=True) from None
            # A connection the server ended meanwhile (idle too long, or its limit of messages): one fresh try.
            smtp = self._connect()
            try:
                self._envelope(smtp, sender, recipient, data)
            except (OSError, smtplib.SMTPServerDisconnected) as again:
                self._drop()
                raise SMTPFailure(f"Connessione SMTP interrotta: {again}", connection=True) from None
        at_end_of_data()
        try:
            smtp.send(b".\r\n")
            code, reply = smtp.getreply()
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            raise SMTPFailure(f"Nessuna conferma dal server dopo l'invio: {exc}", ambiguous=True) from None
        if code != 250:
            raise self._refused("fine del messaggio", code, reply)


def file_in_dev_mailbox(directory: str, recipient: str, message: bytes) -> Path:
    """Write the message as an .eml file, named so that the newest sorts first on /_dev/posta."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    path = folder / f"{stamp}-{re.sub(r'[^A-Za-z0-9@._-]', '_', recipient)[:80]}.eml"
    path.write_bytes(message)
    return path


def _sender() -> tuple[str, str]:
    """(header From, envelope address)."""
    configured = current_app.config.get("MAIL_DEFAULT_SENDER") or "Consulta <noreply@localhost>"
    if isinstance(configured, tuple | list):
        configured = formataddr((configured[0], configured[1]))
    return configured, parseaddr(configured)[1] or "noreply@localhost"


# Structured headers that must stay plain ASCII on the wire: the default policy folds a long
# value it cannot break into RFC 2047 encoded-words (=?utf-8?q?=3Chttp…), which RFC 2369/8058
# do not allow there, and mail clients then offer no unsubscribe button.
VERBATIM_HEADERS = frozenset({"list-unsubscribe", "list-unsubscribe-post"})


class _MailPolicy(EmailPolicy):
    """The SMTP policy, except that VERBATIM_HEADERS are written as given (folded only between <…> items)."""

    def _verbatim(self, name: str, value: str) -> str | None:
        text = str(value)
        if name.lower() not in VERBATIM_HEADERS or not text.isascii() or "\n" in text or "\r" in text:
            return None
        # Fold only between two <…> items: a comma inside a URL stays where it is.
        items = re.split(r"(?<=>)\s*,\s*(?=<)", text.strip())
        return f"{name}: " + f",{self.linesep} ".join(items) + self.linesep

    def fold(self, name, value):
        return self._verbatim(name, value) or super().fold(name, value)

    def fold_binary(self, name, value):
        verbatim = self._verbatim(name, value)
        return verbatim.encode("ascii") if verbatim is not None else super().fold_binary(name, value)


class _HeaderClasses(HeaderRegistry):
    """The standard registry creates a new class for every header of every message; one per header
    name is enough (a quarter of the time it takes to compose a digest)."""

    def __init__(self):
        super().__init__()
        self._made: dict[str, type] = {}

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        if key not in self._made:
            self._made[key] = super().__getitem__(name)
        return self._made[key]


MAIL_POLICY = _MailPolicy(linesep="\r\n", header_factory=_HeaderClasses())


def mime_message(row: OutboxEmail) -> bytes:
    """The multipart/alternative message of an outbox row, with a Message-ID that is the same on every attempt."""
    header_from, envelope = _sender()
    domain = envelope.rpartition("@")[2] or "localhost"
    message = EmailMessage(policy=MAIL_POLICY)
    message["Subject"] = row.subject
    message["From"] = header_from
    message["To"] = row.to_address
    message["Date"] = format_datetime(utcnow())
    if row.kind == OutboxKind.digest:
        message["Message-ID"] = f"<digest.{row.id}.{(row.period_key or '').replace(':', '.')}@{domain}>"
    else:
        message["Message-ID"] = f"<mail.{row.id}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    for name, value in (row.headers or {}).items():
        message[name] = value
    message.set_content(row.body_text, cte="quoted-printable")
    message.add_alternative(row.body_html, subtype="html", cte="quoted-printable")
    if row.attachments:
        # mixed( alternative(text, html), attachments… )
        message.make_mixed()
        for attachment in row.attachments:
            maintype, _slash, subtype = attachment["content_type"].partition(";")[0].strip().partition("/")
            params = dict(
                param.strip().split("=", 1) for param in attachment["content_type"].split(";")[1:] if "=" in param)
            params.pop("charset", None)
            if maintype == "text":
                message.add_attachment(attachment["content"], subtype=subtype, filename=attachment["filename"],
                                       params=params)
            else:
                message.add_attachment(attachment["content"].encode("utf-8"), maintype=maintype, subtype=subtype,
                                       filename=attachment["filename"], params=params)
    return message.as_bytes()


# --------------------------------------------------------------------------- one row

class Outcome:
    sent = "sent"
    retry = "retry"
    failed = "failed"
    cancelled = "cancelled"
    interrupted = "interrupted"
    skipped = "skipped"


def _claimable(now: datetime):
    due = (OutboxEmail.status == OutboxStatus.pending) & (OutboxEmail.next_attempt_at <= now)
    if setting("DIGEST_RESEND_INTERRUPTED"):
        stale = now - timedelta(seconds=int(setting("DIGEST_SENDING_TIMEOUT")))
        return or_(due, (OutboxEmail.status == OutboxStatus.sending) & (OutboxEmail.claimed_at < stale))
    return due


def claim_row(row_id: int) -> tuple[OutboxEmail, User | None] | None:
    """Lock one deliverable row (and read its recipient) for this worker; None if another
    worker holds it or it is not due."""
    found = db.session.execute(
        select(OutboxEmail, User).outerjoin(User, User.id == OutboxEmail.recipient_id)
        .where(OutboxEmail.id == row_id, _claimable(utcnow()))
        .with_for_update(skip_locked=True, of=OutboxEmail)).first()
    return (found[0], found[1]) if found is not None else None


def _move(row_id: int, source: str, target: str, **values) -> None:
    """Change a row's status with one UPDATE (no reload after the commits of the delivery steps)."""
    if (source, target) not in OUTBOX_TRANSITIONS:
        raise ValueError(f"no move {source} -> {target}")
    table = OutboxEmail.__table__  # a plain Core UPDATE: the row object is not needed any more
    db.session.execute(update(table).where(table.c.id == row_id, table.c.status == source)
                       .values(status=target, **values))


def settle_interrupted(now: datetime) -> int:
    """`sending` rows older than the timeout: report them as failed (unless they are to be resent)."""
    if setting("DIGEST_RESEND_INTERRUPTED"):
        return 0
    stale = now - timedelta(seconds=int(setting("DIGEST_SENDING_TIMEOUT")))
    rows = db.session.execute(
        select(OutboxEmail).where(OutboxEmail.status == OutboxStatus.sending, OutboxEmail.claimed_at < stale)
        .with_for_update(skip_locked=True)).scalars().all()
    for row in rows:
        row.move_to(OutboxStatus.failed)
        row.last_error = INTERRUPTED_ERROR
    db.session.flush()
    return len(rows)


_OUTCOME_COUNTERS = {Outcome.sent: "sent", Outcome.cancelled: "cancelled", Outcome.interrupted: "interrupted",
                     Outcome.failed: "failed"}


class Deliveries:
    """One worker's deliveries for a whole run, shared by both commands.

    One SMTP connection stays open from message to message (SMTPLink reconnects when the server has
    dropped it). Each row is claimed with SKIP LOCKED just before its message goes out, and each
    message costs ONE commit: the `sending` that must be durable before its final dot also records
    the `sent` of the message before (step 3 of the module docstring)."""

    def __init__(self, summary: MailSummary):
        self.summary = summary
        self.link = SMTPLink()
        self.worker = worker_name()
        self.connection_failures = 0
        # Rows the server accepted whose `sent` is not committed yet: it goes with the next commit.
        self.accepted: list[tuple[int, datetime]] = []

    def commit(self) -> None:
        for row_id, sent_at in self.accepted:
            _move(row_id, OutboxStatus.sending, OutboxStatus.sent, sent_at=sent_at)
        db.session.commit()
        self.accepted.clear()

    def close(self) -> None:
        """Record what the server accepted and end the SMTP session (also when a run stops on an error)."""
        try:
            db.session.rollback()
            self.commit()
        finally:
            self.link.close()

    def deliver(self, row_id: int) -> bool:
        """Claim a due row (or count it skipped: another sender has it, or it left meanwhile), deliver it,
        count the outcome, and give up on a server that keeps refusing connections. Returns whether
        this worker handled the row."""
        claimed = claim_row(row_id)
        if claimed is None:
            db.session.rollback()
            self.summary.skipped += 1
            return False
        outcome, failure = self._deliver(*claimed)
        counter = _OUTCOME_COUNTERS.get(outcome, "retry")
        setattr(self.summary, counter, getattr(self.summary, counter) + 1)
        if failure is not None and failure.connection:
            self.connection_failures += 1
            if self.connection_failures >= int(setting("DIGEST_SMTP_GIVE_UP_AFTER")):
                self.summary.smtp_unreachable = failure.message
        else:
            self.connection_failures = 0
        return True

    def _deliver(self, row: OutboxEmail, recipient: User | None) -> tuple[str, SMTPFailure | None]:
        """Deliver a claimed row; commits as it goes (see the module docstring)."""
        reason = cancel_reason(recipient, row)
        if reason is not None:
            row.move_to(OutboxStatus.cancelled)
            row.last_error = reason
            self.commit()
            return Outcome.cancelled, None
        if row.status == OutboxStatus.sending:  # an interrupted one, resent by choice (DIGEST_RESEND_INTERRUPTED)
            row.move_to(OutboxStatus.pending)
            db.session.flush()
        _header, envelope = _sender()
        row_id = row.id
        try:
            payload = mime_message(row)
        except (ValueError, UnicodeError) as exc:  # e.g. an address the e-mail library refuses
            failure = SMTPFailure(f"Messaggio non componibile: {exc}", permanent=True)
            record_attempt_failure(row, failure.message, permanent=True)
            self.commit()
            return Outcome.failed, failure

        def at_end_of_data() -> None:
            _move(row_id, OutboxStatus.pending, OutboxStatus.sending, claimed_by=self.worker, claimed_at=utcnow())
            self.commit()

        try:
            self.link.transmit(envelope, row.to_address, payload, at_end_of_data)
        except SMTPFailure as failure:
            if failure.ambiguous:
                db.session.rollback()
                return Outcome.interrupted, failure
            record_attempt_failure(row, failure.message, permanent=failure.permanent)
            self.commit()
            return (Outcome.failed if row.status == OutboxStatus.failed else Outcome.retry), failure
        self.accepted.append((row_id, utcnow()))
        return Outcome.sent, None


# --------------------------------------------------------------------------- a run

@dataclass
class MailSummary:
    sent: int = 0
    skipped: int = 0
    retry: int = 0
    failed: int = 0
    cancelled: int = 0
    interrupted: int = 0
    postponed: int = 0
    smtp_unreachable: str | None = None

    @property
    def handled(self) -> int:
        return self.sent + self.retry + self.failed + self.cancelled + self.interrupted

    @property
    def exit_code(self) -> int:
        return 1 if (self.retry or self.failed or self.interrupted or self.smtp_unreachable) else 0

    def lines(self) -> list[str]:
        lines = [f"E-mail inviate: {self.sent} · da ritentare: {self.retry} · non riuscite: "
                 f"{self.failed + self.interrupted} · annullate: {self.cancelled}"]
        if self.smtp_unreachable:
            lines.append(f"Invio sospeso: {self.smtp_unreachable}. {self.postponed} e-mail rinviate al prossimo giro.")
        return lines


@dataclass
class Summary(MailSummary):
    """A send-digests run: what was delivered, as for send-mail, and what was built."""

    dry_run: bool = False
    built: int = 0
    deadline_notices: int = 0
    waiting: int = 0
    previews: list[tuple[str, str]] = field(default_factory=list)

    @property
    def not_delivered(self) -> int:
        return self.retry + self.failed + self.interrupted

    @property
    def exit_code(self) -> int:
        return 1 if (self.not_delivered or self.smtp_unreachable) else 0

    def lines(self) -> list[str]:
        if self.dry_run:
            return [f"Prova (--dry-run): {self.built} riepiloghi da inviare, {self.retry} invii da ritentare, "
                    f"{self.skipped} destinatari senza novità; nulla è stato scritto né inviato."]
        lines = [f"Riepiloghi inviati: {self.sent} · saltati: {self.skipped} · non riusciti: {self.not_delivered}"]
        details = []
        if self.retry:
            details.append(f"{self.retry} da ritentare più tardi")
        if self.failed:
            details.append(f"{self.failed} falliti definitivamente (vedi /gestione/posta/)")
        if self.interrupted:
            details.append(f"{self.interrupted} invii interrotti senza conferma")
        if self.cancelled:
            details.append(f"{self.cancelled} annullati (destinatario sospeso o disiscritto)")
        if self.deadline_notices:
            details.append(f"{self.deadline_notices} avvisi di scadenza creati")
        if details:
            lines.append("Dettagli: " + "; ".join(details) + ".")
        if self.smtp_unreachable:
            lines.append(f"Invio sospeso: {self.smtp_unreachable}. {self.postponed} destinatari rinviati alla "
                         "prossima esecuzione.")
        elif self.postponed:
            lines.append(f"Limite raggiunto (--limit): {self.postponed} destinatari rinviati alla prossima esecuzione.")
        if self.waiting:
            lines.append(f"In coda per un nuovo tentativo: {self.waiting}.")
        return lines


ProgressFactory = Callable[[int], AbstractContextManager]


def _leftover(now: datetime):
    """Digests written earlier and due now: a retry after a failure, an admin's "send now", a run
    that stopped midway."""
    return _claimable(now) & (OutboxEmail.kind == OutboxKind.digest)


class DigestRun:
    """flask send-digests: deliver the digests left from earlier, then build the due ones a batch
    of recipients at a time (one commit per batch) and deliver each batch before building the next."""

    def __init__(self, frequencies: tuple[str, ...] = FREQUENCIES, *, dry_run: bool = False,
                 limit: int | None = None, progress: ProgressFactory | None = None):
        self.frequencies = frequencies
        self.dry_run = dry_run
        self.limit = limit
        self.progress = progress or (lambda length: nullcontext(None))
        self.summary = Summary(dry_run=dry_run)
        self.deliveries: Deliveries | None = None
        self.handled = 0

    def _stop(self) -> bool:
        return (self.limit is not None and self.handled >= self.limit) or self.summary.smtp_unreachable is not None

    def run(self) -> Summary:
        now = utcnow()
        if not self.dry_run:
            self.summary.deadline_notices = emit_deadline_notices(now)
            self.summary.failed += settle_interrupted(now)
            db.session.commit()
        size = int(setting("DIGEST_BATCH_SIZE"))
        leftovers = db.session.execute(select(func.count()).select_from(OutboxEmail).where(_leftover(now))).scalar_one()
        due = due_recipient_count(self.frequencies, now)
        db.session.rollback()
        self.deliveries = Deliveries(self.summary)
        try:
            with self.progress(leftovers + due) as bar:
                self._send_leftovers(now, size, bar)
                self._build_and_send(now, size, due, bar)
        finally:
            self.deliveries.close()
        if not self.dry_run:
            self.summary.waiting = db.session.execute(
                select(func.count()).select_from(OutboxEmail)
                .where(OutboxEmail.status == OutboxStatus.pending)).scalar_one()
            db.session.rollback()
        return self.summary

    def _send_leftovers(self, now: datetime, size: int, bar) -> None:
        after = 0
        while not self._stop():
            row_ids = db.session.execute(select(OutboxEmail.id).where(_leftover(now), OutboxEmail.id > after)
                                         .order_by(OutboxEmail.id).limit(size)).scalars().all()
            db.session.rollback()
            if not row_ids:
                return
            after = row_ids[-1]
            for row_id in row_ids:
                if self._stop():
                    return
                self._deliver(row_id)
                bar and bar.update(1)

    def _build_and_send(self, now: datetime, size: int, due: int, bar) -> None:
        after = processed = 0
        while not self._stop():
            # What the server accepted is recorded before the batch takes its time (docs/digests.md).
            self.deliveries.commit()
            wanted = size if self.limit is None else min(size, self.limit - self.handled)
            user_ids, row_ids = self._build(now, after, wanted)
            if not user_ids:
                return
            after = user_ids[-1]
            processed += len(user_ids)
            bar and bar.update(len(user_ids) - len(row_ids))
            for index, row_id in enumerate(row_ids):
                if self._stop():
                    self.summary.postponed += len(row_ids) - index
                    break
                self._deliver(row_id)
                bar and bar.update(1)
        self.summary.postponed += max(due - processed, 0)

    def _build(self, now: datetime, after: int, size: int) -> tuple[list[int], list[int]]:
        """The next batch of due recipients (after the id `after`), claimed, and their digests written
        with their notifications marked in ONE commit. Returns the recipients' ids and the outbox rows
        written; a dry run writes nothing and returns no rows."""
        users = due_recipients(self.frequencies, now, after=after, size=size, lock=not self.dry_run)
        user_ids = [user.id for user in users]
        if not users:
            db.session.rollback()
            return [], []
        if self.dry_run:
            digests = DigestBatch(users, pending_notifications_of(user_ids), now).digests()
            self.summary.previews += [(digest.recipient.email, digest.subject) for digest in digests]
            self.summary.built += len(digests)
            self.summary.skipped += len(users) - len(digests)
            self.handled += len(digests)
            db.session.rollback()
            return user_ids, []
        row_ids, skipped = write_digests(users, now)
        db.session.commit()
        self.summary.built += len(row_ids)
        self.summary.skipped += skipped
        return user_ids, row_ids

    def _deliver(self, row_id: int) -> None:
        if self.dry_run:
            self.summary.retry += 1
            self.handled += 1
        elif self.deliveries.deliver(row_id):
            self.handled += 1


# --------------------------------------------------------------------------- flask send-mail

class MailRun:
    """Deliver every due outbox row (immediate e-mails, and digests waiting for a retry or an
    admin's "send now"), oldest first, each claimed with SKIP LOCKED: any number of senders may
    run at once on PostgreSQL. Built digests are the job of DigestRun (flask send-digests)."""

    def __init__(self, limit: int | None = None, stop: Callable[[], bool] | None = None):
        self.limit = limit
        self.stop = stop or (lambda: False)  # asked between two e-mails (SIGTERM in --loop mode)
        self.summary = MailSummary()

    def run(self) -> MailSummary:
        now = utcnow()
        self.summary.failed += settle_interrupted(now)
        db.session.commit()
        query = select(OutboxEmail.id).where(_claimable(now)).order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
        if self.limit is not None:
            query = query.limit(self.limit)
        due = list(db.session.execute(query).scalars())
        db.session.rollback()
        if not due:
            return self.summary
        deliveries = Deliveries(self.summary)
        try:
            for index, row_id in enumerate(due):
                if self.summary.smtp_unreachable is not None or self.stop():
                    self.summary.postponed = len(due) - index
                    break
                deliveries.deliver(row_id)
        finally:
            deliveries.close()
        return self.summary
