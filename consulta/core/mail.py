"""The one e-mail sender every domain uses.

A message is rendered from two templates, `templates/<domain>/emails/<name>.txt`
and `.html`, into one multipart/alternative message and sent through Flask-Mail.

Immediate e-mails (verification, password reset, convocations) must leave only
once the data they talk about is committed. Operations therefore call
`send_email_after_commit(...)`: the message is rendered at once (in the
request's locale, with the request's data) and held on the database session;
it is sent when that session commits and dropped if it rolls back. Code that
has already committed may call `send_email(...)` directly.
"""

from __future__ import annotations

import logging
import smtplib
from typing import Any

from flask import current_app, has_request_context
from flask_babel import force_locale
from flask_mail import Message
from sqlalchemy import event
from sqlalchemy.orm import Session

from consulta.extensions import db, mail

log = logging.getLogger(__name__)

_PENDING_KEY = "consulta_pending_emails"


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
    """Render the text and HTML parts of `template` into one Flask-Mail message.

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


def deliver(message: Message) -> bool:
    """Hand a message to the SMTP server; a failure is logged, never raised to the user."""
    try:
        mail.send(message)
    except (smtplib.SMTPException, OSError):
        log.exception("Could not send e-mail %r to %s", message.subject, message.recipients)
        return False
    return True


def send_email(to: str, subject: Any, template: str, *, locale: str | None = None, **context: Any) -> bool:
    """Render and send now. Call it only after the data the e-mail refers to is committed."""
    return deliver(build_email(to, subject, template, locale=locale, **context))


def send_email_after_commit(to: str, subject: Any, template: str, *, locale: str | None = None,
                            **context: Any) -> None:
    """Render now, send when the current database session commits (dropped on rollback)."""
    message = build_email(to, subject, template, locale=locale, **context)
    db.session.info.setdefault(_PENDING_KEY, []).append(message)


def pending_emails() -> list[Message]:
    """The messages waiting for the current session's commit (for tests and debugging)."""
    return list(db.session.info.get(_PENDING_KEY, ()))


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    messages = session.info.pop(_PENDING_KEY, None)
    for message in messages or ():
        deliver(message)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction) -> None:
    # Only the outermost transaction decides; a rolled-back savepoint keeps the queue.
    if previous_transaction.parent is None and not previous_transaction.nested:
        session.info.pop(_PENDING_KEY, None)
