"""Who may do what in the admin area; composed from core.permissions."""

from __future__ import annotations

from typing import Any

from consulta.core.permissions import is_admin


def can_administer(user: Any) -> bool:
    """An admin whose account may act (core.permissions.may_act)."""
    return is_admin(user)


def is_self(actor: Any, target: Any) -> bool:
    return getattr(actor, "id", None) is not None and actor.id == target.id


def can_change_role(actor: Any, target: Any) -> bool:
    """Admins change other people's roles; nobody demotes themselves (an admin always remains)."""
    return can_administer(actor) and not is_self(actor, target)


def can_block(actor: Any, target: Any) -> bool:
    return can_administer(actor) and not is_self(actor, target) and target.blocked_at is None


def can_unblock(actor: Any, target: Any) -> bool:
    return can_administer(actor) and not is_self(actor, target) and target.blocked_at is not None
