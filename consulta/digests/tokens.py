"""Signed unsubscribe tokens: the link in every digest works without logging in.

The token carries the user id and the address the digest was sent to, signed
with SECRET_KEY under a salt of its own (a verification or reset token is
worthless here). If the address changes, older links stop working: whoever
reads the old mailbox cannot change the new owner's preferences.
"""

from __future__ import annotations

from enum import StrEnum

from flask import current_app
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer

from consulta.accounts.models import User
from consulta.extensions import db

SALT = "consulta.digests.unsubscribe"


class UnsubscribeProblem(StrEnum):
    invalid = "invalid"
    expired = "expired"


class UnsubscribeTokenError(Exception):
    def __init__(self, problem: UnsubscribeProblem):
        super().__init__(problem.value)
        self.problem = problem


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=SALT)


def make_unsubscribe_token(user: User) -> str:
    return _serializer().dumps({"u": user.id, "e": user.email})


def read_unsubscribe_token(token: str) -> User:
    if not token or len(token) > 500:
        raise UnsubscribeTokenError(UnsubscribeProblem.invalid)
    max_age = int(current_app.config.get("UNSUBSCRIBE_MAX_AGE", 365 * 24 * 3600))
    try:
        data = _serializer().loads(token, max_age=max_age)
    except SignatureExpired:
        raise UnsubscribeTokenError(UnsubscribeProblem.expired) from None
    except BadData:
        raise UnsubscribeTokenError(UnsubscribeProblem.invalid) from None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        raise UnsubscribeTokenError(UnsubscribeProblem.invalid)
    user = db.session.get(User, data["u"])
    if user is None or data.get("e") != user.email:
        raise UnsubscribeTokenError(UnsubscribeProblem.invalid)
    return user
