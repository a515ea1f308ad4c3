"""Home page, language switch and health check."""

from __future__ import annotations

from flask import jsonify, redirect, render_template, request, session, url_for
from sqlalchemy import select, text

from consulta.ambito import bp
from consulta.ambito.models import Comune
from consulta.core.views import safe_next_url
from consulta.extensions import db
from consulta.plan.models import Plan
from consulta.tavoli.models import Phase, Tavolo


@bp.get("/")
def home():
    plan = Plan.current()
    tavoli = []
    if plan is not None:
        tavoli = list(db.session.execute(
            select(Tavolo).where(Tavolo.plan_id == plan.id, Tavolo.phase != Phase.draft)
            .order_by(Tavolo.position, Tavolo.title)
        ).scalars())
    comuni = Comune.all_sorted()
    return render_template("ambito/home.html", plan=plan, tavoli=tavoli, comuni=comuni)


@bp.get("/lingua/<code>")
def set_language(code: str):
    if code in ("it", "en"):
        session["lang"] = code
    return redirect(safe_next_url(request.args.get("next"), url_for("ambito.home")))


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception:  # the point of a health check is to report, not to raise
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database=database, backend=db.engine.dialect.name)




@bp.get("/accessibilita")
def accessibility():
    return render_template("ambito/accessibility.html")
