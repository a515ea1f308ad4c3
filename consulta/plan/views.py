"""Public pages of the plan editions: the list, and one edition with its tavoli and its record
(the other public pages of the record are in record_views.py)."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select

from consulta.core.input_guard import paginate
from consulta.core.views import load_or_404, require
from consulta.extensions import db
from consulta.plan import bp, page_cache
from consulta.plan.models import Plan
from consulta.tavoli.models import Tavolo
from consulta.tavoli.queries import tavolo_stats, visible_tavoli_clause


@bp.get("/")
def index():
    page = paginate(select(Plan).order_by(Plan.period_start.desc(), Plan.id.desc()), per_page=20)
    if page.total == 1 and page.page == 1:  # one edition: the list would only be a click more
        return redirect(url_for("plan.show", plan_id=page.items[0].id))
    counts = dict(db.session.execute(
        select(Tavolo.plan_id, func.count())
        .where(Tavolo.plan_id.in_([p.id for p in page.items]), visible_tavoli_clause(current_user))
        .group_by(Tavolo.plan_id)
    ).all())
    return render_template("plan/index.html", page=page, counts=counts, current=Plan.current())


@bp.get("/<int:plan_id>/")
def show(plan_id: int):
    plan = load_or_404(Plan, plan_id)
    require(plan.can_view(current_user))
    tavoli = list(db.session.execute(
        select(Tavolo).where(Tavolo.plan_id == plan.id, visible_tavoli_clause(current_user))
        .order_by(Tavolo.position, Tavolo.title)
    ).scalars())
    return render_template("plan/show.html", plan=plan, tavoli=tavoli, stats=tavolo_stats(tavoli),
                           body=page_cache.plan_body(plan))
