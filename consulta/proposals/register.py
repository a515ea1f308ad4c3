"""The response register (controdeduzioni): every published proposal gets an answer.

A proposal counts once it has been published and until it is withdrawn; proposals
hidden by the moderators do not count (their placeholder and reason are public
instead). Pages read the counters kept on the tavolo (`Register.of`); closing a
tavolo counts in SQL (`unanswered_count`), from the proposals themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, not_, select

from consulta.extensions import db
from consulta.proposals.models import Proposal, tavolo_tallies_sql


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

    @classmethod
    def of(cls, tavolo) -> Register:
        """The register as the tavolo's counters keep it (the pages read this; no query)."""
        return cls(total=tavolo.register_count, answered=tavolo.answered_count)


def unanswered_count(tavolo_id: int) -> int:
    """Proposals of the tavolo still owed an answer, counted from the rows (closing the tavolo asks this)."""
    tallies = tavolo_tallies_sql()
    return db.session.execute(
        select(func.count()).select_from(Proposal)
        .where(Proposal.tavolo_id == tavolo_id, tallies["register_count"], not_(tallies["answered_count"]))
    ).scalar_one()
