"""A readable, word-level diff between two texts of an objective.

The texts are the Markdown sources as written by the facilitators; they are
compared as words and whitespace and every piece is HTML-escaped, so nothing in
a body can become markup: only our own <ins>/<del> tags are emitted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from markupsafe import Markup, escape

# Words (letters, digits, emoji and other symbols glued together), runs of spaces, single punctuation marks.
_TOKEN = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text or "")


@dataclass(frozen=True)
class DiffResult:
    html: Markup
    added: int
    removed: int

    @property
    def unchanged(self) -> bool:
        return self.added == 0 and self.removed == 0


def word_diff(old: str, new: str, *, added_label: str = "", removed_label: str = "") -> DiffResult:
    """Compare `old` and `new` word by word; returns escaped HTML and how many words changed.

    The labels, when given, are announced by screen readers (which ignore <ins>/<del>) and hidden on screen.
    """
    add_prefix = f'<span class="visually-hidden">{escape(added_label)} </span>' if added_label else ""
    del_prefix = f'<span class="visually-hidden">{escape(removed_label)} </span>' if removed_label else ""
    a, b = tokens(old), tokens(new)
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    parts: list[str] = []
    added = removed = 0
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            parts.append(str(escape("".join(a[i1:i2]))))
            continue
        if op in ("delete", "replace"):
            removed += sum(1 for t in a[i1:i2] if not t.isspace())
            parts.append(f'<del class="diff-del">{del_prefix}{escape("".join(a[i1:i2]))}</del>')
        if op in ("insert", "replace"):
            added += sum(1 for t in b[j1:j2] if not t.isspace())
            parts.append(f'<ins class="diff-add">{add_prefix}{escape("".join(b[j1:j2]))}</ins>')
    return DiffResult(html=Markup("".join(parts)), added=added, removed=removed)
