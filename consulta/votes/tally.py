"""Vote panels and tallies by stakeholder category, computed in SQL.

Contract used by the proposal and objective pages:
    panel = vote_panel(subject, current_user)           # subject: Proposal or Objective
    {% include "votes/_panel.html" %}                   # reads `panel` and `subject`
STUB: the votes work replaces the body; the signature stays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class VotePanel:
    subject: Any
    total: int = 0


def vote_panel(subject, user) -> VotePanel:
    return VotePanel(subject=subject)
