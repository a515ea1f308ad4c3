"""Small shared predicates that the models' can_* methods compose.

`may_act` is the one answer to "may this account do anything beyond reading?". Every other
predicate here, and through them every `can_*` method of the models, starts from it: a blocked,
unverified or deleted account has no power anywhere, whatever its role (admins included).
"""

from __future__ import annotations

from typing import Any


def is_authenticated(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def may_act(user: Any) -> bool:
    """Logged in, e-mail verified, not blocked and not deleted: the account may act at all."""
    return (is_authenticated(user) and user.email_verified_at is not None and user.blocked_at is None
            and getattr(user, "deleted_at", None) is None)


def is_admin(user: Any) -> bool:
    """An admin whose account may act."""
    return may_act(user) and user.role == "admin"


def is_facilitator(user: Any) -> bool:
    """A facilitator or admin whose account may act (which tavoli they facilitate is `facilitates`)."""
    return may_act(user) and user.role in ("facilitator", "admin")


def is_active_participant(user: Any) -> bool:
    """May contribute (propose, comment, vote, flag): the same as `may_act`."""
    return may_act(user)


def facilitates(user: Any, tavolo: Any) -> bool:
    """An admin, or a facilitator assigned to this tavolo; in both cases an account that may act."""
    if tavolo is None or not may_act(user):
        return False
    if user.role == "admin":
        return True
    return user.role == "facilitator" and tavolo.has_facilitator(user)
