"""The public plan page's body, rendered once per content ("render once").

The areas, objectives and actions with their provenance, the budget, the monitoring and the documents
are the same for every viewer and cost most of the page (a plan of 100 actions formats hundreds of
amounts and tallies). They are rendered once and kept in the per-worker cache of consulta.core.fragments,
keyed by what they show: the plan (id, creation, status), the locale and script root of the links, the
pending decisions, and queries.content_stamp (the record's revisions and what the page reads from other
domains).

What depends on the viewer (header, flash messages, CSRF tokens, edit buttons, the tavoli they may see)
is rendered around the body at every request; the body is rendered without the request's context
processors, so it cannot read `current_user`.

The one writer of the record that writes no PlanRevision is `flask rerender-text` (stored HTML under a
new sanitising policy): after it the web workers are reloaded (docs/security.md).
"""

from __future__ import annotations

from collections.abc import Hashable

from flask import current_app, request
from flask_babel import get_locale
from markupsafe import Markup

from consulta.ambito.models import Comune
from consulta.core.fragments import cached
from consulta.plan import queries
from consulta.plan.models import Plan


def plan_body(plan: Plan) -> Markup:
    """The body of /piano/<id>/ between the plan's header and its tavoli (templates/plan/_body.html)."""
    pending = queries.pending_count(plan.id) if not plan.is_adopted else 0

    def key() -> Hashable:
        return ("plan", plan.id, plan.created_at, plan.status, str(get_locale()), request.script_root, pending,
                queries.content_stamp(plan.id))

    def render() -> str:
        template = current_app.jinja_env.get_template("plan/_body.html")
        return template.render(
            plan=plan, record=queries.plan_context(plan), comuni=Comune.all_sorted(), pending=pending,
            status_counts=queries.status_counts(plan.id) if plan.is_adopted else None)

    return cached(key, render, kind="plan")
