"""Home page, language switch, health check, favicon and the Ambito set-up page."""

from __future__ import annotations

from flask import (
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select, text

from consulta.ambito import bp
from consulta.ambito.forms import AmbitoForm
from consulta.ambito.models import Ambito, Comune
from consulta.ambito.operations import SetupProblem, read_setup, set_up_ambito
from consulta.core.views import require, safe_next_url
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




@bp.get("/favicon.ico")
def favicon():
    # Browsers ask for it at the root whatever the page says; the SVG one is linked from every page.
    return send_from_directory(current_app.static_folder, "img/favicon.ico", max_age=86_400)


@bp.get("/accessibilita")
def accessibility():
    return render_template("ambito/accessibility.html")


@bp.route("/gestione/ambito", methods=["GET", "POST"])
def setup():
    """The Ufficio di Piano names the Ambito, its region and its comuni (from the ISTAT list)."""
    require(Ambito.can_set_up(current_user))
    ambito = Ambito.current()
    comuni = Comune.all_sorted()
    form = AmbitoForm()
    if not form.is_submitted() and ambito is not None:
        form.name.data, form.number.data, form.region.data = ambito.name, ambito.number, ambito.region
        form.comuni.data = "\n".join(comune.name for comune in comuni)
        form.lead.data = ambito.lead_comune.name if ambito.lead_comune else ""
    if form.validate_on_submit():
        try:
            setup = read_setup(name=form.name.data, number=form.number.data, region=form.region.data,
                               comuni=form.comuni.data, lead=form.lead.data)
            _ambito, changes = set_up_ambito(current_user, setup)
        except SetupProblem as problem:
            db.session.rollback()
            form[problem.field].errors = list(form[problem.field].errors) + problem.messages
        else:
            db.session.commit()
            flash(_("Ambito salvato: %(count)d comuni.", count=len(setup.comuni)) if changes
                  else _("Nessuna modifica da salvare."), "success")
            return redirect(url_for("ambito.setup"))
    status = 400 if form.is_submitted() else 200
    return render_template("ambito/setup.html", form=form, ambito=ambito, comuni=comuni, plan=Plan.current()), status

