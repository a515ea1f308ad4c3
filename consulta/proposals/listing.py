"""The proposal list of a tavolo page: filters, sort, search, pages.

Contract used by the tavoli domain (tavolo page):
    listing = proposal_listing(tavolo, request.args, current_user)   # 400 on bad parameters
    {% include "proposals/_listing.html" %}                           # reads `listing` and `tavolo`
STUB: the proposals work replaces the body; the signature stays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ProposalListing:
    items: list[Any] = field(default_factory=list)
    total: int = 0
    pagination: Any = None
    params: dict[str, str] = field(default_factory=dict)


def proposal_listing(tavolo, args, user) -> ProposalListing:
    return ProposalListing()
