"""Rendered HTML kept per worker, under a key that says what it shows ("render once").

A page whose body is the same for every viewer of a kind renders it once and keeps it in a bounded
least-recently-used cache. The key is made of what the body prints, so it changes whenever that
changes, in every worker at once: nothing has to be told to forget, old keys fall out of the cache.

Two ways to make a key:
- from a stamp the domain keeps (consulta/plan/page_cache.py: the record's revisions and one query for
  what it prints from other domains);
- from the data the view has already loaded (`content_digest`): the rows and values the template reads,
  walked and hashed. `cached` files a body only if the key is the same after rendering, so a template
  that loads anything more while rendering (a lazy relationship, a deferred column: its state changes,
  and with it the digest) is never filed under a key that does not cover it.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from threading import Lock

from flask import current_app, render_template, request
from flask_babel import get_locale
from flask_babel.speaklater import LazyString
from flask_login import current_user
from flask_sqlalchemy.pagination import Pagination
from markupsafe import Markup
from sqlalchemy import Row

# How many bodies each worker keeps, by kind: a body of a 100-action plan weighs some 350 KB (a few plans
# in two languages), a tavolo's or a proposal's page 50–100 KB (the pages visitors read most, while a
# crawler walking every proposal only evicts pages, never the plan).
SIZES = {"plan": 16, "pages": 128}


class FragmentCache:
    """A bounded least-recently-used map of rendered HTML; safe for a threaded worker."""

    def __init__(self, size: int):
        self.size = size
        self._entries: OrderedDict[Hashable, Markup] = OrderedDict()
        self._lock = Lock()

    def get(self, key: Hashable) -> Markup | None:
        with self._lock:
            html = self._entries.get(key)
            if html is not None:
                self._entries.move_to_end(key)
            return html

    def put(self, key: Hashable, html: Markup) -> None:
        with self._lock:
            self._entries[key] = html
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


EXTENSION = "consulta_fragments"


def fragments(kind: str = "pages") -> FragmentCache:
    """This app's cache of `kind` (each gunicorn worker has its own)."""
    caches = current_app.extensions.setdefault(EXTENSION, {})
    if kind not in caches:
        caches[kind] = FragmentCache(SIZES[kind])
    return caches[kind]


class Uncacheable(Exception):
    """The value holds something whose printed form cannot be read off it: render without the cache."""


def cached(key_of: Callable[[], Hashable], render: Callable[[], str], kind: str = "pages") -> Markup:
    """The HTML kept for key_of(), else render() and keep it.

    It is kept only if the key is the same after rendering: a change committed meanwhile might be half in
    the HTML, and a template that loaded more while rendering showed something the key did not cover."""
    try:
        key = key_of()
    except Uncacheable:
        return Markup(render())
    cache = fragments(kind)
    html = cache.get(key)
    if html is None:
        html = Markup(render())
        try:
            if key_of() == key:
                cache.put(key, html)
        except Uncacheable:
            pass
    return html


def visitor_body(template: str, context: dict, *, clock: Callable[[], tuple] = tuple) -> Markup:
    """A page's content, `template` rendered from `context`: for a visitor who is not signed in, kept under
    a digest of the context (what the view loaded), the locale and the request's path and query string.

    Whoever is signed in gets it rendered for them (what they may do shows on the page). `clock` gives
    what the content prints from the time of the request rather than from its data (days left before a
    deadline, say); the template must print nothing else that the context does not hold."""

    def render() -> str:
        return render_template(template, **context)

    if current_user.is_authenticated:
        return Markup(render())

    def key() -> Hashable:
        return (template, str(get_locale()), request.script_root, request.full_path, clock(),
                content_digest(*context.values()))

    return cached(key, render)


# --------------------------------------------------------------------------- digest of loaded data

_PLAIN = (str, int, float, bool, type(None), datetime, date, time, Decimal, bytes)
_EXACTLY_PLAIN = frozenset(_PLAIN)
_ATTRIBUTES: dict = {}  # mapper -> the names of its mapped attributes, in a fixed order


def content_digest(*values) -> str:
    """A digest of everything `values` hold that a template can print: plain values, containers,
    dataclasses, paginations and mapped rows with what is loaded of them (columns and loaded
    relationships, followed). A row already met is named, not walked again; anything else raises
    Uncacheable (its repr may carry an address, or hide what it shows)."""
    out: list = []
    _walk(values, out, {})
    return hashlib.blake2b(repr(out).encode(), digest_size=16).hexdigest()


def _walk(value, out: list, seen: dict[int, int]) -> None:
    if type(value) in _EXACTLY_PLAIN or isinstance(value, _PLAIN):
        out.append(value)
        return
    state = getattr(value, "_sa_instance_state", None)
    if state is not None and not isinstance(value, type):
        _walk_row(value, state, out, seen)
    elif isinstance(value, Enum):
        out.append(value.value)
    elif isinstance(value, list | tuple | Row):
        out.append(len(value))
        for item in value:
            _walk(item, out, seen)
    elif isinstance(value, dict):
        out.append(len(value))
        for key, item in value.items():
            _walk(key, out, seen)
            _walk(item, out, seen)
    elif isinstance(value, set | frozenset):
        if any(not isinstance(item, _PLAIN) for item in value):
            raise Uncacheable(type(value).__name__)
        out.append(sorted(repr(item) for item in value))
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        out.append(type(value).__name__)
        for item in dataclasses.fields(value):
            _walk(getattr(value, item.name), out, seen)
    elif isinstance(value, Pagination):
        out.extend((value.page, value.per_page, value.total, getattr(value, "next_cursor", None)))
        _walk(value.items, out, seen)
    elif isinstance(value, LazyString):
        out.append(str(value))  # translated text: the locale is part of every key
    else:
        raise Uncacheable(type(value).__name__)


def _walk_row(row, state, out: list, seen: dict[int, int]) -> None:
    marker = seen.get(id(row))
    if marker is not None:
        out.append(("row", marker))
        return
    seen[id(row)] = len(seen)
    out.append((type(row).__name__, state.identity))
    names = _ATTRIBUTES.get(state.mapper)
    if names is None:
        names = _ATTRIBUTES[state.mapper] = tuple(sorted(state.mapper.attrs.keys()))
    loaded = state.dict  # what is loaded: not the instance state, nor values memoised on the object
    for name in names:
        if name in loaded:
            value = loaded[name]
            out.append(name)
            if type(value) in _EXACTLY_PLAIN:
                out.append(value)
            else:
                _walk(value, out, seen)
