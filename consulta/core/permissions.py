"""Small shared predicates that the models' can_* methods compose."""

from __future__ import annotations

from typing import Any


def is_authenticated(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def is_admin(user: Any) -> bool:
    return is_authenticated(user) and user.role == "admin"


def is_active_participant(user: Any) -> bool:
    """Logged in, e-mail verified and not blocked: may contribute."""
    return is_authenticated(user) and user.email_verified_at is not None and user.blocked_at is None


def facilitates(user: Any, tavolo: Any) -> bool:
    """An admin, or a facilitator assigned to this tavolo."""
    if not is_authenticated(user) or tavolo is None:
        return False
    if is_admin(user):
        return True
    return user.role == "facilitator" and user.blocked_at is None and tavolo.has_facilitator(user)
