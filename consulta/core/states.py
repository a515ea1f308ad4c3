"""Explicit state machines.

Each model with a lifecycle declares one transition table beside it:

    PROPOSAL_TRANSITIONS = TransitionTable("state", [
        Transition(S.submitted, S.published, allowed=lambda p, u: ..., action="proposal.publish"),
        ...
    ])

and operations call `table.apply(obj, to, actor, ...)`: it checks that the move
exists and that the actor may make it, runs the requirement check, sets the
state and writes the AuditEvent. Nothing else assigns the state column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from flask_babel import gettext

from consulta.core import audit


class TransitionError(Exception):
    """A refused transition. `status` is the HTTP status a view should answer with."""

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.message = message
        self.status = status


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


class TransitionTable:
    def __init__(self, attribute: str, transitions: Iterable[Transition]):
        self.attribute = attribute
        self._by_pair: dict[tuple[str, str], Transition] = {}
        for t in transitions:
            key = (t.source.value, t.target.value)
            if key in self._by_pair:
                raise ValueError(f"duplicate transition {key}")
            self._by_pair[key] = t

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
        context: dict[str, Any] | None = None,
        audit_changes: dict[str, Any] | None = None,
    ) -> Transition:
        current = str(getattr(obj, self.attribute))
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
        setattr(obj, self.attribute, t.target.value)
        changes = {self.attribute: [current, t.target.value]}
        changes.update(audit_changes or {})
        audit.record(actor, t.action, obj, changes, reason=reason)
        return t
