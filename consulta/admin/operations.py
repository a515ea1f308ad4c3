"""Admin operations on users: each flushes, the view commits."""

from __future__ import annotations

from flask_babel import gettext as _

from consulta.accounts.models import Role, User
from consulta.core import audit
from consulta.core.db import utcnow
from consulta.core.states import TransitionError
from consulta.extensions import db


def change_role(user: User, actor: User, role: str) -> bool:
    """Give `user` another role; returns False when it already had it (nothing written)."""
    if role not in {r.value for r in Role}:
        raise TransitionError(_("Ruolo sconosciuto."), 400)
    before = user.role
    if before == role:
        return False
    user.role = role
    audit.record(actor, "user.role_change", user, {"role": [before, role]})
    db.session.flush()
    return True


def block_user(user: User, actor: User, reason: str) -> None:
    """Block: the person can read but not contribute, and every open session of theirs ends."""
    if user.blocked_at is not None:
        raise TransitionError(_("Questo account è già bloccato."), 409)
    if not reason:
        raise TransitionError(_("Indica il motivo del blocco."), 400)
    user.blocked_at = utcnow()
    user.blocked_reason = reason
    user.end_all_sessions()
    audit.record(actor, "user.block", user, {
        "blocked_at": [None, user.blocked_at.isoformat()], "blocked_reason": [None, reason],
    }, reason=reason)
    db.session.flush()


def unblock_user(user: User, actor: User) -> None:
    if user.blocked_at is None:
        raise TransitionError(_("Questo account non è bloccato."), 409)
    before_at, before_reason = user.blocked_at, user.blocked_reason
    user.blocked_at = None
    user.blocked_reason = None
    audit.record(actor, "user.unblock", user, {
        "blocked_at": [before_at.isoformat(), None], "blocked_reason": [before_reason, None],
    })
    db.session.flush()
