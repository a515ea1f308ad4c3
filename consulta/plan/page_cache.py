"""The public plan page's body, rendered once per content ("render once").

The areas, objectives and actions with their provenance, the budget, the monitoring and the documents
are the same for every viewer and cost most of the page (a plan of 100 actions formats hundreds of
amounts and tallies). They are rendered once and kept in a bounded per-process cache, keyed by what they
show: the plan (id, creation, status), the locale and script root of the links, the pending decisions,
and queries.content_stamp (the record's revisions and what the page reads from other domains). The key
changes whenever something shown changes, in every worker at once: nothing has to be told to forget.
A new content is a new key; old keys simply fall out of the cache.

What depends on the viewer (header, flash messages, CSRF tokens, edit buttons, the tavoli they may see)
is rendered around the body at every request; the body is rendered without the request's context
processors, so it cannot read `current_user`.

The one writer of the record that writes no PlanRevision is `flask rerender-text` (stored HTML under a
new sanitising policy): after it the web workers are reloaded (docs/security.md).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from threading import Lock

from flask import current_app, request
from flask_babel import get_locale
from markupsafe import Markup

from consulta.ambito.models import Comune
from consulta.plan import queries
from consulta.plan.models import Plan

# A body of a 100-action plan weighs some 350 KB: a few plans in two languages, and older keys to evict.
MAX_ENTRIES = 16


class FragmentCache:
    """A bounded least-recently-used map of rendered HTML; safe for a threaded worker."""

    def __init__(self, size: int = MAX_ENTRIES):
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


def fragments() -> FragmentCache:
    """This app's cache (each gunicorn worker has its own)."""
    return current_app.extensions.setdefault("plan_fragments", FragmentCache())


def cached(key_of: Callable[[], Hashable], render: Callable[[], str]) -> Markup:
    """The HTML kept for key_of(), else render() and keep it.

    It is kept only if the key is the same after rendering: a change committed meanwhile might be
    half in the HTML, which then must not be filed under either key."""
    cache = fragments()
    key = key_of()
    html = cache.get(key)
    if html is None:
        html = Markup(render())
        if key_of() == key:
            cache.put(key, html)
    return html


def plan_body(plan: Plan) -> Markup:
    """The body of /piano/<id>/ between the plan's header and its tavoli (templates/plan/_body.html)."""
    pending = queries.pending_count(plan.id) if not plan.is_adopted else 0

    def key() -> tuple:
        return ("plan", plan.id, plan.created_at, plan.status, str(get_locale()), request.script_root, pending,
                queries.content_stamp(plan.id))

    def render() -> str:
        template = current_app.jinja_env.get_template("plan/_body.html")
        return template.render(
            plan=plan, record=queries.plan_context(plan), comuni=Comune.all_sorted(), pending=pending,
            status_counts=queries.status_counts(plan.id) if plan.is_adopted else None)

    return cached(key, render)
