"""The response register (controdeduzioni): every published proposal gets an answer.

Counted in SQL per tavolo. A proposal counts once it has been published and until
it is withdrawn; proposals hidden by the moderators do not count (their placeholder
and reason are public instead).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import case, func, select

from consulta.extensions import db
from consulta.proposals.models import ANSWERED_STATES, REGISTER_STATES, Proposal, Visibility


@dataclass
class Register:
    total: int = 0
    answered: int = 0

    @property
    def unanswered(self) -> int:
        return self.total - self.answered

    @property
    def percent(self) -> int:
        """Answered share, rounded down (100 only when every proposal is answered)."""
        return (self.answered * 100) // self.total if self.total else 100

    @property
    def complete(self) -> bool:
        return self.answered == self.total


def counted():
    """SQL condition: the proposals the register counts."""
    return Proposal.state.in_(sorted(REGISTER_STATES)) & (Proposal.visibility != Visibility.hidden.value)


def response_register(tavolo_ids: Iterable[int]) -> dict[int, Register]:
    """answered / total per tavolo, one GROUP BY query."""
    ids = sorted({int(i) for i in tavolo_ids})
    registers = {tavolo_id: Register() for tavolo_id in ids}
    if not ids:
        return registers
    answered = func.sum(case((Proposal.state.in_(sorted(ANSWERED_STATES)), 1), else_=0))
    rows = db.session.execute(
        select(Proposal.tavolo_id, func.count(Proposal.id), answered)
        .where(Proposal.tavolo_id.in_(ids), counted())
        .group_by(Proposal.tavolo_id)
    )
    for tavolo_id, total, done in rows:
        registers[tavolo_id] = Register(total=total, answered=int(done or 0))
    return registers


def unanswered_count(tavolo_id: int) -> int:
    return response_register([tavolo_id])[tavolo_id].unanswered
