"""The one way every domain sends an e-mail: a row in the outbox.

A message is rendered from two templates, `templates/<domain>/emails/<name>.txt`
and `.html` (at once, in the recipient's or the request's locale, with the
request's data) and written as an `OutboxEmail` row (kind `immediate`) in the
caller's database transaction: it exists if and only if the data it talks about
was committed, and a rolled-back request leaves no row. The sender
(`flask send-mail`, consulta/digests/sender.py) delivers it after the commit,
exactly once, with retries and an SMTP timeout: a request never talks to SMTP.
See docs/mail.md.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, has_request_context
from flask_babel import force_locale, get_locale
from flask_mail import Message

from consulta.core.db import utcnow
from consulta.extensions import db

log = logging.getLogger(__name__)


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute URL for `endpoint`, rooted at PUBLIC_BASE_URL.

    Works inside and outside a request (CLI commands, digest workers), and never
    trusts the Host header of the current request.
    """
    app = current_app._get_current_object()
    anchor = values.pop("_anchor", None)
    app.inject_url_defaults(endpoint, values)
    adapter = app.url_map.bind("localhost", script_name="/", url_scheme="http")
    path = adapter.build(endpoint, values, force_external=False)
    base = app.config["PUBLIC_BASE_URL"].rstrip("/")
    return f"{base}{path}" + (f"#{anchor}" if anchor else "")


def _template_paths(template: str) -> tuple[str, str]:
    """'accounts/verify_email' -> accounts/emails/verify_email.txt and .html."""
    domain, _, name = template.partition("/")
    if not domain or not name or "/" in name:
        raise ValueError(f"e-mail template must be '<domain>/<name>', got {template!r}")
    return f"{domain}/emails/{name}.txt", f"{domain}/emails/{name}.html"


def build_email(to: str, subject: Any, template: str, *, locale: str | None = None, **context: Any) -> Message:
    """Render the text and HTML parts of `template` into one message (not sent: see queue_email).

    `locale` renders the message in the recipient's language (e.g. `user.locale`)
    instead of the current request's.
    """
    from flask import render_template

    text_path, html_path = _template_paths(template)

    def render() -> Message:
        context.setdefault("subject", str(subject))
        return Message(
            subject=str(subject),
            recipients=[to],
            body=render_template(text_path, **context),
            html=render_template(html_path, **context),
        )

    if locale is None and not has_request_context():
        # Outside a request (CLI, digest worker) there is no session to choose a language from.
        locale = current_app.config.get("BABEL_DEFAULT_LOCALE", "it")
    if locale:
        with force_locale(locale):
            return render()
    return render()


def queue_email(to: str, subject: Any, template: str, *, locale: str | None = None,
                recipient: Any = None, attachments: list[dict[str, str]] | None = None,
                **context: Any):
    """Render now and write the outbox row in the current transaction; return it (flushed).

    `recipient`: the account the e-mail is for (default: the `user` of the context when it is a
    User); None for an address without an account. `attachments`: text files as
    [{"filename", "content_type", "content"}] (e.g. a meeting's .ics).
    """
    from consulta.accounts.models import User
    from consulta.digests.models import OutboxEmail, OutboxKind, OutboxStatus

    message = build_email(to, subject, template, locale=locale, **context)
    if recipient is None and isinstance(context.get("user"), User):
        recipient = context["user"]
    if recipient is not None and recipient.id is None and recipient in db.session:
        db.session.flush()  # a person registered in this very transaction
    now = utcnow()
    row = OutboxEmail(
        kind=OutboxKind.immediate, recipient_id=getattr(recipient, "id", None), to_address=to,
        template=template[:120],
        locale=(locale or str(get_locale() or current_app.config.get("BABEL_DEFAULT_LOCALE", "it")))[:5],
        subject=message.subject[:300], body_text=message.body, body_html=message.html, headers={},
        attachments=list(attachments) if attachments else None, notification_count=0,
        status=OutboxStatus.pending, attempts=0, next_attempt_at=now, created_at=now,
    )
    db.session.add(row)
    db.session.flush()
    log.info("E-mail %s queued as outbox row %s", template, row.id)
    return row


def send_email_after_commit(to: str, subject: Any, template: str, *, locale: str | None = None,
                            **context: Any) -> None:
    """Render now and write the e-mail into the outbox in the current transaction: the sender
    delivers it once the transaction has committed; a rollback leaves nothing to send."""
    queue_email(to, subject, template, locale=locale, **context)


def last_queued_email(user: Any, template: str):
    """The latest outbox row of `template` for `user` (e.g. their verification e-mail), or None:
    lets a page tell whether it left, is still being tried, or could not leave."""
    from sqlalchemy import select

    from consulta.digests.models import OutboxEmail

    return db.session.execute(
        select(OutboxEmail).where(OutboxEmail.recipient_id == user.id, OutboxEmail.template == template)
        .order_by(OutboxEmail.id.desc()).limit(1)).scalar_one_or_none()
