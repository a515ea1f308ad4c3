"""Helpers for the accounts stories: links from e-mails, old and tampered tokens, stored state."""

from __future__ import annotations

import html
import re
import time
from urllib.parse import urlsplit

from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select

from consulta.accounts.models import User
from consulta.core.audit import AuditEvent
from consulta.extensions import db

# The factories' password (DEFAULT_PASSWORD in tests/conftest.py).
DEFAULT_PASSWORD = "Prova-della-Consulta-42"
NEW_PASSWORD = "Una-frase-lunga-per-la-Consulta-7"


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def link_in_mail(smtp_sink, address: str, marker: str, count: int = 1) -> str:
    """The path of the link containing `marker` in the latest e-mail to `address`."""
    smtp_sink.wait_for(count)
    messages = smtp_sink.to(address)
    assert messages, f"no e-mail to {address}"
    links = [link for link in smtp_sink.links_in(messages[-1]) if marker in link]
    assert links, f"no link with {marker!r} in: {smtp_sink.text_of(messages[-1])}"
    return path_of(links[0])


def users_count() -> int:
    return db.session.execute(select(func.count(User.id))).scalar_one()


def audit_actions(user) -> list[str]:
    return list(db.session.execute(
        select(AuditEvent.action).where(AuditEvent.subject_type == "user", AuditEvent.subject_id == user.id)
        .order_by(AuditEvent.id)).scalars())


def reload(user) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def text(response) -> str:
    """The page as a reader sees it: HTML entities decoded."""
    return html.unescape(response.get_data(as_text=True))


def without_csrf(html: str) -> str:
    """A page with its (time-stamped) CSRF token blanked, to compare two answers."""
    return re.sub(r'name="csrf_token"[^>]*value="[^"]*"', 'name="csrf_token"', html)


class _SignerInThePast(TimestampSigner):
    """Signs as if it were `age` seconds ago: a really expired token, no sleeping."""

    age = 0

    def get_timestamp(self) -> int:
        return int(time.time()) - self.age


def old_token(app, purpose, payload: dict, age: int) -> str:
    from consulta.accounts.tokens import SALTS

    signer = type("Signer", (_SignerInThePast,), {"age": age})
    return URLSafeTimedSerializer(app.secret_key, salt=SALTS[purpose], signer=signer).dumps(payload)


def tamper(token: str) -> str:
    """Change one character of the signed payload, keeping the token well-formed."""
    middle = len(token) // 3
    replacement = "A" if token[middle] != "A" else "B"
    return token[:middle] + replacement + token[middle + 1:]


def copy_cookie(source, target, name: str) -> None:
    cookie = source.get_cookie(name)
    assert cookie is not None, f"no {name} cookie"
    target.set_cookie(name, cookie.value)
