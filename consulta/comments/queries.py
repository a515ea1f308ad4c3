"""Comment threads shown on proposal and objective pages.

Contract used by the proposal and objective pages:
    thread = comment_thread(subject, current_user)      # subject: Proposal or Objective
    {% include "comments/_thread.html" %}               # reads `thread` and `subject`
STUB: the comments work replaces the body; the signature stays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class CommentThread:
    subject: Any
    comments: list[Any] = field(default_factory=list)
    total: int = 0


def comment_thread(subject, user) -> CommentThread:
    return CommentThread(subject=subject)
