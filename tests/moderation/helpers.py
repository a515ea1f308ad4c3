"""Helpers of the moderation tests."""

from __future__ import annotations


def text_of(response) -> str:
    """The page's visible text, whitespace folded (for assertions on what the user reads)."""
    return text_of_html(response.get_data(as_text=True))


def text_of_html(body: str) -> str:
    import html
    import re

    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", body, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())
