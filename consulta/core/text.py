"""The one place user text is cleaned and sanitised.

Markdown is rendered with raw HTML disabled, then bleach removes whatever is
not on a strict allowlist (no style, no on* handlers, only http/https/mailto
links). Plain text fields are stripped of control characters but keep emoji
and right-to-left scripts intact.
"""

from __future__ import annotations

import re
import unicodedata

import bleach
from bleach.linkifier import LinkifyFilter
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = frozenset({
    "p", "br", "strong", "em", "b", "i", "a", "ul", "ol", "li", "blockquote",
    "code", "pre", "h3", "h4", "h5", "h6", "hr",
})
ALLOWED_ATTRIBUTES = {"a": ["href", "title", "rel"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
# Headings inside user text must not compete with the page's own h1/h2.
_markdown.disable(["heading", "lheading"])


def _set_rel(attrs, new=False):
    href_key = (None, "href")
    if href_key in attrs:
        attrs[(None, "rel")] = "nofollow noopener ugc"
    return attrs


_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    filters=[lambda source: LinkifyFilter(source, callbacks=[_set_rel], parse_email=False)],
)

_DROP_CATEGORIES = {"Cc", "Cs", "Co", "Cn"}
_KEEP_CONTROLS = {"\n", "\t"}


def clean_plain(text: str | None, *, multiline: bool = False) -> str:
    """Normalise a plain-text field: NFC, no control characters, trimmed.

    Format characters (Cf) such as ZWJ in emoji sequences and the bidi marks
    used in RTL text are kept.
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    kept = []
    for ch in text:
        if ch in _KEEP_CONTROLS and multiline:
            kept.append(ch)
        elif ch in _KEEP_CONTROLS:
            kept.append(" ")
        elif unicodedata.category(ch) not in _DROP_CATEGORIES:
            kept.append(ch)
    return "".join(kept).strip()


def render_markdown(source: str | None) -> str:
    """Markdown -> sanitised HTML string, safe to store and to output unescaped."""
    source = clean_plain(source, multiline=True)
    if not source:
        return ""
    html = _markdown.render(source)
    return sanitise(html)


def sanitise(html: str) -> str:
    """HTML reduced to the allowlist (the last step of render_markdown; a stored value is unchanged by it)."""
    return _cleaner.clean(html).strip()


def safe_html(stored_html: str | None) -> Markup:
    """Mark HTML stored by render_markdown() as safe for templates, without parsing it again.

    The text is sanitised once, when written. When the policy changes, `flask rerender-text`
    renders every stored column again (consulta/stored_text.py).
    """
    return Markup(stored_html or "")


def record_html(stored_html: str | None) -> Markup:
    """Like safe_html, sanitised again on the way out: for the HTML of approved minutes, which the
    database refuses to rewrite, so `flask rerender-text` cannot bring it under a newer policy."""
    return Markup(sanitise(stored_html or ""))


def slugify(text: str) -> str:
    """A URL part from a name: ASCII letters and digits joined by dashes ("Calvi dell'Umbria" -> "calvi-dell-umbria")."""
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
