"""Explicit state machines.

Each model with a lifecycle declares one transition table beside it:

    PROPOSAL_TRANSITIONS = TransitionTable("state", [
        Transition(S.submitted, S.published, allowed=lambda p, u: ..., action="proposal.publish"),
        ...
    ])

and operations call `table.apply(obj, to, actor, ...)`: it locks the row and re-reads
the state, checks that the move exists and that the actor may make it, runs the
requirement check, sets the state and writes the AuditEvent. Nothing else assigns
the state column.

Concurrency by design: a state moves only after its row is locked (`SELECT … FOR NO
KEY UPDATE` on PostgreSQL; SQLite serialises writers, so there the lock is a plain
re-read) and the transition is checked against what is committed now, not against
what the page showed. A request that finds the row moved by someone else meanwhile
raises `Conflict`; the error handler in `consulta.core.errors` rolls back and answers
409 with the Italian message: never a 500, never a second effect. Operations that
decide on more than the state (flag thresholds, moderation, votes) call `lock()`
before they look.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from flask import has_request_context
from flask_babel import gettext
from sqlalchemy import inspect

from consulta.core import audit
from consulta.extensions import db


class TransitionError(Exception):
    """A refused transition. `status` is the HTTP status a view should answer with; `field`, when the
    refusal is about one input, the form field a view shows it beside."""

    def __init__(self, message: str, status: int = 409, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field


CHANGED_MEANWHILE = ("Nel frattempo un'altra persona ha già modificato questo contenuto: ricarica la pagina per "
                     "vederlo com'è ora.")


class Conflict(TransitionError):
    """A lost race: the row moved under us. Answered 409 with the message, in one place."""

    def __init__(self, message: str | None = None):
        if message is None:
            message = gettext(CHANGED_MEANWHILE) if has_request_context() else CHANGED_MEANWHILE
        super().__init__(message, 409)


def _refresh_locked(obj: Any, names: list[str] | None, shared: bool) -> None:
    state = inspect(obj)
    if state.session is None or state.pending or state.transient:
        return  # created in this transaction: the row is ours already
    if names is None:
        # Every column without a change pending in this transaction: nothing of ours is lost.
        names = [a.key for a in state.mapper.column_attrs if not state.attrs[a.key].history.has_changes()]
    elif any(state.attrs[n].history.has_changes() for n in names):
        return  # moved in this transaction: we hold the lock since then
    if not names:  # every column has a change pending: lock the row, re-read only its key
        names = [a.key for a in state.mapper.column_attrs if a.columns[0].primary_key]
    mode = {"read": True} if shared else {"key_share": True}
    # No autoflush: a change of this transaction may be half-made (a merge target set before the
    # state that the CHECK ties it to); it stays pending, untouched by the refresh.
    with db.session.no_autoflush:
        db.session.refresh(obj, attribute_names=names, with_for_update=mode)


def lock(obj: Any, *, watch: str | None = None, shared: bool = False, message: str | None = None) -> Any:
    """Lock `obj`'s row until the end of the transaction and re-read its columns from the database.

    `watch`: an attribute (usually a state) the caller already looked at; if the committed value
    differs from the one in memory, someone else moved it meanwhile and `Conflict(message)` is raised.
    `shared`: a share lock — others may share it, nobody may move the row — for acts that depend on
    the row staying as it is without changing it (a vote on a proposal that must not be withdrawn).
    Columns with a change pending in this transaction are kept as they are.
    """
    seen = str(getattr(obj, watch)) if watch else None
    _refresh_locked(obj, None, shared)
    if watch and str(getattr(obj, watch)) != seen:
        raise Conflict(message)
    return obj


def lock_state(obj: Any, attribute: str) -> str:
    """Lock `obj`'s row and re-read only `attribute` (a state); `Conflict` if it moved since we read it.
    Returns the state, for the caller to check its transition against."""
    seen = str(getattr(obj, attribute))
    _refresh_locked(obj, [attribute], shared=False)
    current = str(getattr(obj, attribute))
    if current != seen:
        raise Conflict()
    return current


Predicate = Callable[[Any, Any], bool]
Requirement = Callable[[Any, dict[str, Any]], str | None]


@dataclass(frozen=True)
class Transition:
    source: StrEnum
    target: StrEnum
    allowed: Predicate
    action: str
    # Returns an error message when a requirement is not met, else None.
    requires: Requirement | None = None


# Called after a table moved an object: on_change(obj, attribute, value before the move).
OnChange = Callable[[Any, str, str], None]


class TransitionTable:
    """`on_change`, when given, runs after every move: where a model keeps counters that depend on
    the attribute (a tavolo's figures on a proposal's state), this is the one place they follow it."""

    def __init__(self, attribute: str, transitions: Iterable[Transition], *, on_change: OnChange | None = None):
        self.attribute = attribute
        self.on_change = on_change
        self._by_pair: dict[tuple[str, str], Transition] = {}
        for t in transitions:
            key = (t.source.value, t.target.value)
            if key in self._by_pair:
                raise ValueError(f"duplicate transition {key}")
            self._by_pair[key] = t

    def set(self, obj: Any, value: str, before: str) -> None:
        """Assign the attribute (the only assignment of it) and let `on_change` follow."""
        setattr(obj, self.attribute, value)
        if self.on_change is not None:
            self.on_change(obj, self.attribute, before)

    def find(self, source: str, target: str) -> Transition | None:
        return self._by_pair.get((str(source), str(target)))

    def targets(self, obj: Any, actor: Any) -> list[str]:
        """The states `actor` may move `obj` to now (for buttons in templates)."""
        current = str(getattr(obj, self.attribute))
        return [t.target.value for (s, _), t in self._by_pair.items() if s == current and t.allowed(obj, actor)]

    def can(self, obj: Any, target: str, actor: Any) -> bool:
        t = self.find(getattr(obj, self.attribute), target)
        return t is not None and t.allowed(obj, actor)

    def apply(
        self,
        obj: Any,
        target: str,
        actor: Any,
        *,
        reason: str | None = None,
        reason_key: str | None = None,
        context: dict[str, Any] | None = None,
        audit_changes: dict[str, Any] | None = None,
    ) -> Transition:
        current = lock_state(obj, self.attribute)
        t = self.find(current, target)
        if t is None:
            raise TransitionError(gettext("Passaggio non consentito: da «%(source)s» a «%(target)s».",
                                          source=current, target=target), 409)
        if not t.allowed(obj, actor):
            raise TransitionError(gettext("Non hai i permessi per questa operazione."), 403)
        if t.requires is not None:
            problem = t.requires(obj, context or {})
            if problem:
                raise TransitionError(problem, 409)
        self.set(obj, t.target.value, current)
        changes = {self.attribute: [current, t.target.value]}
        changes.update(audit_changes or {})
        audit.record(actor, t.action, obj, changes, reason=reason, reason_key=reason_key)
        return t
