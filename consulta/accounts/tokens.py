"""Signed, expiring tokens for the links we e-mail.

Each purpose has its own salt, so a token made for one purpose is worthless for
another. A token carries what it vouches for (the user id and the e-mail it was
sent to, plus a fingerprint of the password hash for resets): once that changes
the token stops working, which makes reset and e-mail change links single-use
without storing anything.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from flask import current_app
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer

from consulta.accounts.models import User, normalise_email
from consulta.extensions import db


class Purpose(StrEnum):
    verify_email = "verify-email"
    change_email = "change-email"
    reset_password = "reset-password"


SALTS = {purpose: f"consulta.accounts.{purpose.value}" for purpose in Purpose}
MAX_AGE_SETTINGS = {
    Purpose.verify_email: "EMAIL_VERIFY_MAX_AGE",
    Purpose.change_email: "EMAIL_VERIFY_MAX_AGE",
    Purpose.reset_password: "PASSWORD_RESET_MAX_AGE",
}


class TokenProblem(StrEnum):
    invalid = "invalid"
    expired = "expired"
    used = "used"
    # The new address of an e-mail change was registered by someone else meanwhile.
    taken = "taken"


class TokenError(Exception):
    def __init__(self, problem: TokenProblem):
        super().__init__(problem.value)
        self.problem = problem


def serializer(purpose: Purpose) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=SALTS[purpose])


def max_age(purpose: Purpose) -> int:
    return int(current_app.config[MAX_AGE_SETTINGS[purpose]])


def password_fingerprint(user: User) -> str:
    """A short keyed digest of the current password hash: changes whenever the password does."""
    key = current_app.secret_key.encode() if isinstance(current_app.secret_key, str) else current_app.secret_key
    return hmac.new(key, user.password_hash.encode(), hashlib.sha256).hexdigest()[:20]


def _load(purpose: Purpose, token: str) -> dict[str, Any]:
    try:
        data = serializer(purpose).loads(token, max_age=max_age(purpose))
    except SignatureExpired:
        raise TokenError(TokenProblem.expired) from None
    except BadData:
        raise TokenError(TokenProblem.invalid) from None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        raise TokenError(TokenProblem.invalid)
    return data


def _user(data: dict[str, Any]) -> User:
    user = db.session.get(User, data["u"])
    if user is None:
        raise TokenError(TokenProblem.invalid)
    return user


# --- e-mail verification ---------------------------------------------------

def make_verify_email_token(user: User) -> str:
    return serializer(Purpose.verify_email).dumps({"u": user.id, "e": user.email})


def read_verify_email_token(token: str) -> User:
    data = _load(Purpose.verify_email, token)
    user = _user(data)
    if data.get("e") != user.email:
        # The address changed since the link was sent: it verifies nothing now.
        raise TokenError(TokenProblem.invalid)
    if user.is_verified:
        raise TokenError(TokenProblem.used)
    return user


# --- e-mail change ---------------------------------------------------------

@dataclass(frozen=True)
class EmailChange:
    user: User
    old_email: str
    new_email: str


def make_change_email_token(user: User, new_email: str) -> str:
    return serializer(Purpose.change_email).dumps(
        {"u": user.id, "old": user.email, "new": normalise_email(new_email)})


def read_change_email_token(token: str) -> EmailChange:
    data = _load(Purpose.change_email, token)
    user = _user(data)
    new_email = data.get("new")
    if not isinstance(new_email, str) or not new_email:
        raise TokenError(TokenProblem.invalid)
    if user.email == new_email:
        raise TokenError(TokenProblem.used)
    if user.email != data.get("old"):
        # Another change happened in between: this older link is dead.
        raise TokenError(TokenProblem.invalid)
    return EmailChange(user=user, old_email=user.email, new_email=new_email)


# --- password reset --------------------------------------------------------

def make_reset_password_token(user: User) -> str:
    return serializer(Purpose.reset_password).dumps(
        {"u": user.id, "e": user.email, "h": password_fingerprint(user)})


def read_reset_password_token(token: str) -> User:
    data = _load(Purpose.reset_password, token)
    user = _user(data)
    if data.get("e") != user.email:
        raise TokenError(TokenProblem.invalid)
    if not hmac.compare_digest(str(data.get("h", "")), password_fingerprint(user)):
        # The password changed since the link was sent (typically: the link was used).
        raise TokenError(TokenProblem.used)
    return user
