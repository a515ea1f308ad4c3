"""Routes of the plan record.

Public (blueprint `plan`, under /piano): the per-comune view, the change log and the
history of one item, the PDF and ODT documents.
Open data (blueprint `plan_record`): /dati/piano/<id>.json and /dati/piano/<id>/<name>.csv.
Editing (blueprint `plan_record`, under /facilitazione/piano/<id>/): admins and the
facilitators of the tavoli linked to an area turn approved decisions into objectives and
actions, edit them, adopt the plan, open aggiornamenti and record the monitoring.

Each route loads with explicit loader options, checks a can_* method, calls one
operation (plan/record_operations.py), commits once and redirects.
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from wtforms.fields.choices import SelectChoice

from consulta.core.errors import abort_with
from consulta.core.input_guard import page_number
from consulta.core.permissions import is_admin
from consulta.core.spreadsheet import CSV_CONTENT_TYPE
from consulta.core.states import TransitionError
from consulta.core.submissions import one_time, remember
from consulta.core.views import load_or_404, require
from consulta.extensions import db
from consulta.plan import bp, exports, presentation, queries, record_bp
from consulta.plan import record_operations as ops
from consulta.plan.forms import AdoptionForm
from consulta.plan.models import Plan, PlanStatus
from consulta.plan.operations import change_plan_status
from consulta.plan.record import (
    CLOSED_TEXT,
    FROZEN_TEXT,
    BudgetLine,
    Indicator,
    PlanAction,
    PlanArea,
    PlanInput,
    PlanObjective,
)
from consulta.plan.record_forms import (
    ActionForm,
    ActionStatusForm,
    AggiornamentoForm,
    AreaForm,
    AttachForm,
    BudgetLineForm,
    CloseAggiornamentoForm,
    IndicatorForm,
    PlanObjectiveForm,
    TakeInForm,
    progress_form_class,
)

presentation.register(bp)


# =========================================================================== loading

def _plan(plan_id: int) -> Plan:
    return load_or_404(Plan, plan_id, selectinload(Plan.revision_sets))


def _area_options():
    from consulta.tavoli.models import Tavolo

    return selectinload(PlanArea.tavoli).selectinload(Tavolo.facilitators)


def _area(plan: Plan, area_id: int) -> PlanArea:
    area = load_or_404(PlanArea, area_id, _area_options())
    if area.plan_id != plan.id:
        abort(404)
    return area


def _objective(plan: Plan, objective_id: int) -> PlanObjective:
    objective = load_or_404(PlanObjective, objective_id, joinedload(PlanObjective.area).options(_area_options()))
    if objective.plan_id != plan.id:
        abort(404)
    return objective


def _action(plan: Plan, action_id: int) -> PlanAction:
    action = load_or_404(
        PlanAction, action_id,
        joinedload(PlanAction.objective).joinedload(PlanObjective.area).options(_area_options()),
        selectinload(PlanAction.comuni), selectinload(PlanAction.indicators), selectinload(PlanAction.budget_lines),
        *queries._input_options(PlanAction.inputs),
    )
    if action.plan_id != plan.id:
        abort(404)
    return action


def _editable(plan: Plan) -> None:
    """A 409 with the reason when the record is frozen (adopted without aggiornamento, or closed)."""
    if not plan.record_editable:
        abort_with(409, _(CLOSED_TEXT) if plan.status == PlanStatus.closed else _(FROZEN_TEXT))


def _refused(form, error: TransitionError, field: str | None = None) -> None:
    """Show an operation's refusal of bad input next to the form (400); other refusals are error pages."""
    if error.status != 400:
        raise error
    db.session.rollback()
    if field is not None:
        getattr(form, field).errors = [*getattr(form, field).errors, error.message]
    else:
        form.form_errors.append(error.message)
    form._errors = None


def _form_status(form) -> int:
    return 400 if form.is_submitted() else 200


def _manage_url(plan: Plan, anchor: str | None = None) -> str:
    return url_for("plan_record.manage", plan_id=plan.id, _anchor=anchor)


# =========================================================================== public pages

@bp.get("/<int:plan_id>/comuni/<slug>")
def comune(plan_id: int, slug: str):
    from consulta.ambito.models import Comune

    plan = _plan(plan_id)
    require(plan.can_view(current_user))
    if len(slug) > 120:
        abort(404)
    place = db.session.execute(select(Comune).where(Comune.slug == slug)).scalar_one_or_none()
    if place is None:
        abort(404)
    record = queries.plan_context(plan, action_filter=queries.comune_filter(place.id))
    return render_template("plan/comune.html", plan=plan, place=place, record=record, comuni=Comune.all_sorted())


def _history_page(plan: Plan, owner=None):
    page = page_number("pagina")
    revisions = queries.revisions_page(plan.id, owner=owner, page=page)
    return revisions, queries.group_revisions(list(revisions.items))


@bp.get("/<int:plan_id>/modifiche")
def changelog(plan_id: int):
    plan = _plan(plan_id)
    require(plan.can_view(current_user))
    revisions, groups = _history_page(plan)
    return render_template("plan/changelog.html", plan=plan, revisions=revisions, groups=groups, item=None)


_HISTORY_MODELS = {"area": PlanArea, "objective": PlanObjective, "action": PlanAction}


@bp.get("/<int:plan_id>/modifiche/<kind>/<int:item_id>")
def history(plan_id: int, kind: str, item_id: int):
    from consulta.plan.record import PlanRevision

    plan = _plan(plan_id)
    require(plan.can_view(current_user))
    item_type = presentation.HISTORY_KINDS.get(kind)
    if item_type is None:
        abort(404)
    item = db.session.get(_HISTORY_MODELS[item_type], item_id)
    if item is not None and item.plan_id != plan.id:
        abort(404)
    label = item.title if item is not None else db.session.execute(
        select(PlanRevision.item_label).where(PlanRevision.plan_id == plan.id, PlanRevision.item_type == item_type,
                                              PlanRevision.item_id == item_id).limit(1)).scalar_one_or_none()
    if label is None:
        abort(404)
    revisions, groups = _history_page(plan, owner=(item_type, item_id))
    return render_template("plan/changelog.html", plan=plan, revisions=revisions, groups=groups,
                           item={"type": item_type, "id": item_id, "label": label, "exists": item is not None,
                                 "anchor": getattr(item, "anchor", None)})


def _download(body: bytes | str, mimetype: str, filename: str, *, inline: bool = False) -> Response:
    # content_type, not mimetype: Werkzeug appends "; charset=utf-8" to a text/* mimetype itself.
    response = Response(body, content_type=mimetype)
    disposition = "inline" if inline else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response


@bp.get("/<int:plan_id>.pdf")
def pdf(plan_id: int):
    plan = _plan(plan_id)
    require(plan.can_view(current_user))
    return _download(exports.plan_pdf(plan), "application/pdf", f"piano-{plan.id}.pdf", inline=True)


@bp.get("/<int:plan_id>.odt")
def odt(plan_id: int):
    plan = _plan(plan_id)
    require(plan.can_view(current_user))
    return _download(exports.plan_odt(plan), exports.ODT_MIMETYPE, f"piano-{plan.id}.odt")


# =========================================================================== open data

@record_bp.get("/dati/piano/<int:plan_id>.json")
def data_json(plan_id: int):
    import json

    plan = _plan(plan_id)
    require(plan.can_view(current_user))
    body = json.dumps(exports.describe(plan), ensure_ascii=False, indent=2)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'inline; filename="piano-{plan.id}.json"'
    return response


@record_bp.get("/dati/piano/<int:plan_id>/<name>.csv")
def data_csv(plan_id: int, name: str):
    if name not in exports.CSV_FILES:
        abort(404)
    plan = _plan(plan_id)
    require(plan.can_view(current_user))
    return _download(exports.csv_text(exports.describe(plan), name), CSV_CONTENT_TYPE,
                     f"piano-{plan.id}-{name}.csv")


# =========================================================================== editing: the dashboard

def _manageable_areas(plan: Plan) -> list[PlanArea]:
    from consulta.tavoli.models import Tavolo

    areas = db.session.execute(
        select(PlanArea).where(PlanArea.plan_id == plan.id).order_by(PlanArea.position, PlanArea.id)
        .options(selectinload(PlanArea.tavoli).selectinload(Tavolo.facilitators),
                 selectinload(PlanArea.objectives).selectinload(PlanObjective.actions)
                 .selectinload(PlanAction.budget_lines),
                 selectinload(PlanArea.objectives).selectinload(PlanObjective.inputs))
    ).scalars().all()
    return list(areas)


def _user_tavolo_ids(plan: Plan) -> list[int] | None:
    """The tavoli whose decisions this user may take in (None: all of them, for admins)."""
    from consulta.tavoli.models import Tavolo, tavolo_facilitator

    if is_admin(current_user):
        return None
    return list(db.session.execute(
        select(Tavolo.id).join(tavolo_facilitator, tavolo_facilitator.c.tavolo_id == Tavolo.id)
        .where(Tavolo.plan_id == plan.id, tavolo_facilitator.c.user_id == current_user.id)).scalars())


def _decision_label(decision) -> str:
    kind = _("Proposta") if decision.proposal_id else _("Obiettivo del tavolo")
    return f"{kind} «{decision.subject_title}» — {decision.outcome_label}"


def _take_in_choices(form: TakeInForm, plan: Plan, areas: list[PlanArea], pending: list) -> None:
    mine = [a for a in areas if a.can_manage(current_user)]
    form.decisions.choices = [(d.id, _decision_label(d)) for d in pending]
    form.area.choices = [SelectChoice(a.id, a.title) for a in mine]
    form.objective.choices = [SelectChoice(o.id, f"{a.title} › {o.title}") for a in mine for o in a.objectives]
    targets = []
    for a in mine:
        for o in a.objectives:
            targets.append(SelectChoice(f"o:{o.id}", _("Obiettivo: %(title)s", title=o.title)))
            targets += [SelectChoice(f"a:{x.id}", _("Azione: %(title)s", title=x.title)) for x in o.actions]
    form.target.choices = targets


def _render_manage(plan: Plan, *, take_in: TakeInForm | None = None, adoption: AdoptionForm | None = None,
                   aggiornamento: AggiornamentoForm | None = None, closing: CloseAggiornamentoForm | None = None,
                   status: int = 200):
    areas = _manageable_areas(plan)
    pending = queries.pending_decisions(plan.id, tavolo_ids=_user_tavolo_ids(plan))
    take_in = take_in or TakeInForm(formdata=None)
    _take_in_choices(take_in, plan, areas, pending)
    return render_template(
        "plan/manage.html", plan=plan, areas=areas, pending=pending, take_in=take_in,
        adoption=adoption or AdoptionForm(formdata=None, obj=plan),
        aggiornamento=aggiornamento or AggiornamentoForm(formdata=None),
        closing=closing or CloseAggiornamentoForm(formdata=None),
        pending_all=queries.pending_count(plan.id),
    ), status


@record_bp.get("/facilitazione/piano/<int:plan_id>/")
def manage(plan_id: int):
    plan = _plan(plan_id)
    require(plan.can_manage_record(current_user))
    return _render_manage(plan)


@record_bp.post("/facilitazione/piano/<int:plan_id>/recepisci")
def take_in(plan_id: int):
    plan = _plan(plan_id)
    require(plan.can_manage_record(current_user))
    _editable(plan)
    form = TakeInForm()
    areas = _manageable_areas(plan)
    pending = queries.pending_decisions(plan.id, tavolo_ids=_user_tavolo_ids(plan))
    _take_in_choices(form, plan, areas, pending)
    if not form.validate():
        return _render_manage(plan, take_in=form, status=400)
    by_id = {a.id: a for a in areas}
    try:
        decisions = ops.load_decisions(plan, current_user, form.decisions.data)
        if form.mode.data == "new_objective":
            area = by_id[form.area.data]
            require(area.can_manage(current_user))
            target = ops.create_objective(area, current_user, title=form.title.data,
                                          description=form.description.data, decisions=decisions)
        elif form.mode.data == "new_action":
            objective = next(o for a in areas for o in a.objectives if o.id == form.objective.data)
            require(objective.can_manage(current_user))
            target = ops.create_action(objective, current_user, ops.ActionFields(
                title=form.title.data, description=form.description.data, beneficiaries="", responsible_body="",
                start_date=None, end_date=None, all_comuni=True, comuni=[]), decisions=decisions)
        else:
            kind, ident = form.target.data.split(":")
            objectives = [o for a in areas for o in a.objectives]
            if kind == "o":
                target = next(o for o in objectives if o.id == int(ident))
            else:
                target = next(x for o in objectives for x in o.actions if x.id == int(ident))
            require(target.can_manage(current_user))
            ops.attach_inputs(target, current_user, decisions)
    except TransitionError as error:
        _refused(form, error, "decisions")
        return _render_manage(plan, take_in=form, status=400)
    db.session.commit()
    count = len(decisions)
    if isinstance(target, PlanObjective):
        flash(ngettext("Obiettivo «%(title)s» salvato con %(num)d decisione recepita.",
                       "Obiettivo «%(title)s» salvato con %(num)d decisioni recepite.", count, title=target.title),
              "success")
        return redirect(url_for("plan_record.objective", plan_id=plan.id, objective_id=target.id))
    flash(ngettext("Azione «%(title)s» salvata con %(num)d decisione recepita.",
                   "Azione «%(title)s» salvata con %(num)d decisioni recepite.", count, title=target.title), "success")
    return redirect(url_for("plan_record.action", plan_id=plan.id, action_id=target.id))


# =========================================================================== adoption and aggiornamenti

@record_bp.post("/facilitazione/piano/<int:plan_id>/adozione")
def adopt(plan_id: int):
    plan = _plan(plan_id)
    require(plan.can_edit(current_user))
    form = AdoptionForm()
    if not form.validate():
        return _render_manage(plan, adoption=form, status=400)
    change_plan_status(plan, PlanStatus.adopted, current_user, adoption_reference=form.adoption_reference.data,
                       adoption_date=form.adoption_date.data)
    db.session.commit()
    flash(_("Il piano è adottato: il suo contenuto è ora congelato. Le modifiche successive passano da un "
            "aggiornamento."), "success")
    return redirect(_manage_url(plan))


@record_bp.post("/facilitazione/piano/<int:plan_id>/aggiornamenti/nuovo")
def open_aggiornamento(plan_id: int):
    plan = _plan(plan_id)
    require(plan.can_edit(current_user))
    form = AggiornamentoForm()
    if not form.validate():
        return _render_manage(plan, aggiornamento=form, status=400)
    revision_set = ops.open_aggiornamento(plan, current_user, reason=form.reason.data)
    db.session.commit()
    flash(_("Aggiornamento n. %(num)d aperto: ora il piano si può modificare, e ogni modifica resta nel registro.",
            num=revision_set.number), "success")
    return redirect(_manage_url(plan))


@record_bp.post("/facilitazione/piano/<int:plan_id>/aggiornamenti/chiudi")
def close_aggiornamento(plan_id: int):
    plan = _plan(plan_id)
    require(plan.can_edit(current_user))
    form = CloseAggiornamentoForm()
    if not form.validate():
        return _render_manage(plan, closing=form, status=400)
    revision_set = ops.close_aggiornamento(plan, current_user, reference=form.approval_reference.data,
                                           approval_date=form.approval_date.data)
    db.session.commit()
    flash(_("Aggiornamento n. %(num)d chiuso: il contenuto del piano è di nuovo congelato.", num=revision_set.number),
          "success")
    return redirect(_manage_url(plan))


# =========================================================================== areas

def _tavoli_of(plan: Plan):
    from consulta.tavoli.models import Tavolo

    return list(db.session.execute(select(Tavolo).where(Tavolo.plan_id == plan.id)
                                   .order_by(Tavolo.position, Tavolo.id)).scalars())


def _area_form(plan: Plan, area: PlanArea | None = None) -> tuple[AreaForm, list]:
    tavoli = _tavoli_of(plan)
    if request.method == "GET" and area is not None:
        form = AreaForm(obj=area)
        form.tavoli.data = [t.id for t in area.tavoli]
    else:
        form = AreaForm() if area is not None else one_time(AreaForm)()
    form.tavoli.choices = [(t.id, t.title) for t in tavoli]
    return form, tavoli


@record_bp.route("/facilitazione/piano/<int:plan_id>/aree/nuova", methods=["GET", "POST"])
def area_new(plan_id: int):
    plan = _plan(plan_id)
    require(plan.can_edit(current_user))
    _editable(plan)
    form, tavoli = _area_form(plan)
    if form.validate_on_submit():
        area = ops.create_area(plan, current_user, title=form.title.data, description=form.description.data,
                               tavoli=[t for t in tavoli if t.id in form.tavoli.data])
        remember(form, area, _manage_url(plan, area.anchor))
        db.session.commit()
        flash(_("Area «%(title)s» creata.", title=area.title), "success")
        return redirect(_manage_url(plan, area.anchor))
    return render_template("plan/area_form.html", plan=plan, area=None, form=form), _form_status(form)


@record_bp.route("/facilitazione/piano/<int:plan_id>/aree/<int:area_id>/modifica", methods=["GET", "POST"])
def area_edit(plan_id: int, area_id: int):
    plan = _plan(plan_id)
    area = _area(plan, area_id)
    require(plan.can_edit(current_user))
    _editable(plan)
    form, tavoli = _area_form(plan, area)
    if form.validate_on_submit():
        changes = ops.update_area(area, current_user, title=form.title.data, description=form.description.data,
                                  tavoli=[t for t in tavoli if t.id in form.tavoli.data])
        db.session.commit()
        flash(_("Area aggiornata.") if changes else _("Nessuna modifica da salvare."), "success")
        return redirect(_manage_url(plan, area.anchor))
    return render_template("plan/area_form.html", plan=plan, area=area, form=form), _form_status(form)


@record_bp.post("/facilitazione/piano/<int:plan_id>/aree/<int:area_id>/elimina")
def area_delete(plan_id: int, area_id: int):
    plan = _plan(plan_id)
    area = _area(plan, area_id)
    require(plan.can_edit(current_user))
    _editable(plan)
    title = area.title
    ops.delete_area(area, current_user)
    db.session.commit()
    flash(_("Area «%(title)s» eliminata.", title=title), "success")
    return redirect(_manage_url(plan))


# =========================================================================== objectives

@record_bp.route("/facilitazione/piano/<int:plan_id>/aree/<int:area_id>/obiettivi/nuovo", methods=["GET", "POST"])
def objective_new(plan_id: int, area_id: int):
    plan = _plan(plan_id)
    area = _area(plan, area_id)
    require(area.can_manage(current_user))
    _editable(plan)
    form = one_time(PlanObjectiveForm)()
    if form.validate_on_submit():
        objective = ops.create_objective(area, current_user, title=form.title.data, description=form.description.data)
        remember(form, objective, url_for("plan_record.objective", plan_id=plan.id, objective_id=objective.id))
        db.session.commit()
        flash(_("Obiettivo «%(title)s» creato.", title=objective.title), "success")
        return redirect(url_for("plan_record.objective", plan_id=plan.id, objective_id=objective.id))
    return render_template("plan/objective_form.html", plan=plan, area=area, objective=None, form=form), \
        _form_status(form)


def _attach_choices(form: AttachForm, plan: Plan, item) -> None:
    from consulta.meetings.models import Decision, Minutes

    stmt = ops.eligible_decisions(plan.id).options(joinedload(Decision.minutes))
    tavolo_ids = _user_tavolo_ids(plan)
    if tavolo_ids is not None:
        stmt = stmt.where(Minutes.tavolo_id.in_(tavolo_ids))
    attached = {row.decision_id for row in item.inputs}
    decisions = [d for d in db.session.execute(stmt.order_by(Decision.id)).unique().scalars() if d.id not in attached]
    form.decisions.choices = [(d.id, _decision_label(d)) for d in decisions]


def _render_objective(plan: Plan, objective: PlanObjective, attach: AttachForm | None = None, status: int = 200):
    attach = attach or AttachForm(formdata=None)
    _attach_choices(attach, plan, objective)
    tallies = queries.origin_tallies(objective.inputs)
    return render_template("plan/objective_manage.html", plan=plan, objective=objective, attach=attach,
                           tallies=tallies), status


@record_bp.get("/facilitazione/piano/<int:plan_id>/obiettivi/<int:objective_id>/")
def objective(plan_id: int, objective_id: int):
    plan = _plan(plan_id)
    item = _objective(plan, objective_id)
    require(item.can_manage(current_user))
    return _render_objective(plan, item)


@record_bp.route("/facilitazione/piano/<int:plan_id>/obiettivi/<int:objective_id>/modifica", methods=["GET", "POST"])
def objective_edit(plan_id: int, objective_id: int):
    plan = _plan(plan_id)
    item = _objective(plan, objective_id)
    require(item.can_manage(current_user))
    _editable(plan)
    form = PlanObjectiveForm(obj=item if request.method == "GET" else None)
    if form.validate_on_submit():
        changes = ops.update_objective(item, current_user, title=form.title.data, description=form.description.data)
        db.session.commit()
        flash(_("Obiettivo aggiornato.") if changes else _("Nessuna modifica da salvare."), "success")
        return redirect(url_for("plan_record.objective", plan_id=plan.id, objective_id=item.id))
    return render_template("plan/objective_form.html", plan=plan, area=item.area, objective=item, form=form), \
        _form_status(form)


@record_bp.post("/facilitazione/piano/<int:plan_id>/obiettivi/<int:objective_id>/elimina")
def objective_delete(plan_id: int, objective_id: int):
    plan = _plan(plan_id)
    item = _objective(plan, objective_id)
    require(item.can_manage(current_user))
    _editable(plan)
    title, area = item.title, item.area
    ops.delete_objective(item, current_user)
    db.session.commit()
    flash(_("Obiettivo «%(title)s» eliminato.", title=title), "success")
    return redirect(_manage_url(plan, area.anchor))


@record_bp.post("/facilitazione/piano/<int:plan_id>/obiettivi/<int:objective_id>/collega")
def objective_attach(plan_id: int, objective_id: int):
    plan = _plan(plan_id)
    item = _objective(plan, objective_id)
    require(item.can_manage(current_user))
    _editable(plan)
    form = AttachForm()
    _attach_choices(form, plan, item)
    if not form.validate():
        return _render_objective(plan, item, form, 400)
    try:
        rows = ops.attach_inputs(item, current_user, ops.load_decisions(plan, current_user, form.decisions.data))
    except TransitionError as error:
        _refused(form, error, "decisions")
        return _render_objective(plan, _objective(plan, objective_id), form, 400)
    db.session.commit()
    flash(ngettext("%(num)d decisione collegata.", "%(num)d decisioni collegate.", len(rows)), "success")
    return redirect(url_for("plan_record.objective", plan_id=plan.id, objective_id=item.id))


@record_bp.post("/facilitazione/piano/<int:plan_id>/provenienze/<int:input_id>/scollega")
def input_detach(plan_id: int, input_id: int):
    plan = _plan(plan_id)
    row = load_or_404(PlanInput, input_id, joinedload(PlanInput.decision))
    if row.plan_id != plan.id:
        abort(404)
    target = row.target
    require(target.can_manage(current_user))
    _editable(plan)
    ops.detach_input(row, current_user)
    db.session.commit()
    flash(_("Decisione scollegata."), "success")
    if isinstance(target, PlanObjective):
        return redirect(url_for("plan_record.objective", plan_id=plan.id, objective_id=target.id))
    return redirect(url_for("plan_record.action", plan_id=plan.id, action_id=target.id))


# =========================================================================== actions

def _comuni():
    from consulta.ambito.models import Comune

    return Comune.all_sorted()


def _action_form(action: PlanAction | None = None) -> tuple[ActionForm, list]:
    comuni = _comuni()
    if request.method == "GET" and action is not None:
        form = ActionForm(obj=action)
        form.scope.data = "all" if action.all_comuni else "some"
        form.comuni.data = [c.id for c in action.comuni]
    else:
        form = ActionForm() if action is not None else one_time(ActionForm)()
    form.comuni.choices = [(c.id, c.name) for c in comuni]
    return form, comuni


def _action_fields(form: ActionForm, comuni) -> ops.ActionFields:
    everywhere = form.scope.data == "all"
    return ops.ActionFields(
        title=form.title.data, description=form.description.data, beneficiaries=form.beneficiaries.data,
        responsible_body=form.responsible_body.data, start_date=form.start_date.data, end_date=form.end_date.data,
        all_comuni=everywhere, comuni=[] if everywhere else [c for c in comuni if c.id in form.comuni.data],
    )


@record_bp.route("/facilitazione/piano/<int:plan_id>/obiettivi/<int:objective_id>/azioni/nuova",
                 methods=["GET", "POST"])
def action_new(plan_id: int, objective_id: int):
    plan = _plan(plan_id)
    objective = _objective(plan, objective_id)
    require(objective.can_manage(current_user))
    _editable(plan)
    form, comuni = _action_form()
    if form.validate_on_submit():
        try:
            action = ops.create_action(objective, current_user, _action_fields(form, comuni))
        except TransitionError as error:
            _refused(form, error)
        else:
            remember(form, action, url_for("plan_record.action", plan_id=plan.id, action_id=action.id))
            db.session.commit()
            flash(_("Azione «%(title)s» creata. Ora puoi aggiungere indicatori e risorse.", title=action.title),
                  "success")
            return redirect(url_for("plan_record.action", plan_id=plan.id, action_id=action.id))
    return render_template("plan/action_form.html", plan=plan, objective=objective, action=None, form=form), \
        _form_status(form)


def _render_action(plan: Plan, action: PlanAction, *, indicator_form=None, budget_form=None, attach=None,
                   status_form=None, progress_form=None, status: int = 200):
    attach = attach or AttachForm(formdata=None)
    _attach_choices(attach, plan, action)
    progress_class = progress_form_class(action.indicators)
    return render_template(
        "plan/action_manage.html", plan=plan, action=action,
        indicator_form=indicator_form or IndicatorForm(formdata=None),
        budget_form=budget_form or BudgetLineForm(formdata=None, plan=plan),
        attach=attach,
        status_form=status_form or ActionStatusForm(formdata=None, obj=action),
        progress_form=progress_form or progress_class(formdata=None),
        tallies=queries.origin_tallies(action.inputs),
        progress=queries.progress_of(action),
    ), status


@record_bp.get("/facilitazione/piano/<int:plan_id>/azioni/<int:action_id>/")
def action(plan_id: int, action_id: int):
    plan = _plan(plan_id)
    item = _action(plan, action_id)
    require(item.can_manage(current_user))
    return _render_action(plan, item)


def _back_to_action(plan: Plan, action: PlanAction, anchor: str | None = None):
    return redirect(url_for("plan_record.action", plan_id=plan.id, action_id=action.id, _anchor=anchor))


@record_bp.route("/facilitazione/piano/<int:plan_id>/azioni/<int:action_id>/modifica", methods=["GET", "POST"])
def action_edit(plan_id: int, action_id: int):
    plan = _plan(plan_id)
    item = _action(plan, action_id)
    require(item.can_manage(current_user))
    _editable(plan)
    form, comuni = _action_form(item)
    if form.validate_on_submit():
        try:
            changes = ops.update_action(item, current_user, _action_fields(form, comuni))
        except TransitionError as error:
            _refused(form, error)
            item = _action(plan, action_id)
        else:
            db.session.commit()
            flash(_("Azione aggiornata.") if changes else _("Nessuna modifica da salvare."), "success")
            return _back_to_action(plan, item)
    return render_template("plan/action_form.html", plan=plan, objective=item.objective, action=item, form=form), \
        _form_status(form)


@record_bp.post("/facilitazione/piano/<int:plan_id>/azioni/<int:action_id>/elimina")
def action_delete(plan_id: int, action_id: int):
    plan = _plan(plan_id)
    item = _action(plan, action_id)
    require(item.can_manage(current_user))
    _editable(plan)
    title, objective = item.title, item.objective
    ops.delete_action(item, current_user)
    db.session.commit()
    flash(_("Azione «%(title)s» eliminata.", title=title), "success")
    return redirect(url_for("plan_record.objective", plan_id=plan.id, objective_id=objective.id))


@record_bp.post("/facilitazione/piano/<int:plan_id>/azioni/<int:action_id>/collega")
def action_attach(plan_id: int, action_id: int):
    plan = _plan(plan_id)
    item = _action(plan, action_id)
    require(item.can_manage(current_user))
    _editable(plan)
    form = AttachForm()
    _attach_choices(form, plan, item)
    if not form.validate():
        return _render_action(plan, item, attach=form, status=400)
    try:
        rows = ops.attach_inputs(item, current_user, ops.load_decisions(plan, current_user, form.decisions.data))
    except TransitionError as error:
        _refused(form, error, "decisions")
        return _render_action(plan, _action(plan, action_id), attach=form, status=400)
    db.session.commit()
    flash(ngettext("%(num)d decisione collegata.", "%(num)d decisioni collegate.", len(rows)), "success")
    return _back_to_action(plan, item, "provenienza")


# --------------------------------------------------------------------------- indicators

@record_bp.post("/facilitazione/piano/<int:plan_id>/azioni/<int:action_id>/indicatori/nuovo")
def indicator_new(plan_id: int, action_id: int):
    plan = _plan(plan_id)
    item = _action(plan, action_id)
    require(item.can_manage(current_user))
    _editable(plan)
    form = IndicatorForm()
    if not form.validate():
        return _render_action(plan, item, indicator_form=form, status=400)
    ops.add_indicator(item, current_user, name=form.name.data, unit=form.unit.data, baseline=form.baseline.data,
                      target=form.target.data)
    db.session.commit()
    flash(_("Indicatore aggiunto."), "success")
    return _back_to_action(plan, item, "indicatori")


def _indicator(plan: Plan, indicator_id: int) -> Indicator:
    indicator = load_or_404(Indicator, indicator_id)
    if indicator.plan_id != plan.id:
        abort(404)
    return indicator


@record_bp.route("/facilitazione/piano/<int:plan_id>/indicatori/<int:indicator_id>/modifica", methods=["GET", "POST"])
def indicator_edit(plan_id: int, indicator_id: int):
    plan = _plan(plan_id)
    indicator = _indicator(plan, indicator_id)
    item = _action(plan, indicator.action_id)
    require(item.can_manage(current_user))
    _editable(plan)
    form = IndicatorForm(obj=indicator if request.method == "GET" else None)
    if form.validate_on_submit():
        changes = ops.update_indicator(indicator, current_user, name=form.name.data, unit=form.unit.data,
                                       baseline=form.baseline.data, target=form.target.data)
        db.session.commit()
        flash(_("Indicatore aggiornato.") if changes else _("Nessuna modifica da salvare."), "success")
        return _back_to_action(plan, item, "indicatori")
    return render_template("plan/line_form.html", plan=plan, action=item, form=form, kind="indicator",
                           heading=_("Modifica l'indicatore")), _form_status(form)


@record_bp.post("/facilitazione/piano/<int:plan_id>/indicatori/<int:indicator_id>/elimina")
def indicator_delete(plan_id: int, indicator_id: int):
    plan = _plan(plan_id)
    indicator = _indicator(plan, indicator_id)
    item = _action(plan, indicator.action_id)
    require(item.can_manage(current_user))
    _editable(plan)
    ops.delete_indicator(indicator, current_user)
    db.session.commit()
    flash(_("Indicatore eliminato."), "success")
    return _back_to_action(plan, item, "indicatori")


# --------------------------------------------------------------------------- budget lines

@record_bp.post("/facilitazione/piano/<int:plan_id>/azioni/<int:action_id>/risorse/nuova")
def budget_new(plan_id: int, action_id: int):
    plan = _plan(plan_id)
    item = _action(plan, action_id)
    require(item.can_manage(current_user))
    _editable(plan)
    form = BudgetLineForm(plan=plan)
    if not form.validate():
        return _render_action(plan, item, budget_form=form, status=400)
    try:
        ops.add_budget_line(item, current_user, amount=form.amount.data, funding_source=form.funding_source.data,
                            year=form.year.data, note=form.note.data)
    except TransitionError as error:
        _refused(form, error, "amount")
        return _render_action(plan, _action(plan, action_id), budget_form=form, status=400)
    db.session.commit()
    flash(_("Voce di spesa aggiunta."), "success")
    return _back_to_action(plan, item, "risorse")


def _budget_line(plan: Plan, line_id: int) -> BudgetLine:
    line = load_or_404(BudgetLine, line_id)
    if line.plan_id != plan.id:
        abort(404)
    return line


@record_bp.route("/facilitazione/piano/<int:plan_id>/risorse/<int:line_id>/modifica", methods=["GET", "POST"])
def budget_edit(plan_id: int, line_id: int):
    plan = _plan(plan_id)
    line = _budget_line(plan, line_id)
    item = _action(plan, line.action_id)
    require(item.can_manage(current_user))
    _editable(plan)
    form = BudgetLineForm(obj=line if request.method == "GET" else None, plan=plan)
    if form.validate_on_submit():
        try:
            changes = ops.update_budget_line(line, current_user, amount=form.amount.data,
                                             funding_source=form.funding_source.data, year=form.year.data,
                                             note=form.note.data)
        except TransitionError as error:
            _refused(form, error, "amount")
            item = _action(plan, line.action_id)
        else:
            db.session.commit()
            flash(_("Voce di spesa aggiornata.") if changes else _("Nessuna modifica da salvare."), "success")
            return _back_to_action(plan, item, "risorse")
    return render_template("plan/line_form.html", plan=plan, action=item, form=form, kind="budget",
                           heading=_("Modifica la voce di spesa")), _form_status(form)


@record_bp.post("/facilitazione/piano/<int:plan_id>/risorse/<int:line_id>/elimina")
def budget_delete(plan_id: int, line_id: int):
    plan = _plan(plan_id)
    line = _budget_line(plan, line_id)
    item = _action(plan, line.action_id)
    require(item.can_manage(current_user))
    _editable(plan)
    ops.delete_budget_line(line, current_user)
    db.session.commit()
    flash(_("Voce di spesa eliminata."), "success")
    return _back_to_action(plan, item, "risorse")


# --------------------------------------------------------------------------- monitoring

@record_bp.post("/facilitazione/piano/<int:plan_id>/azioni/<int:action_id>/stato")
def action_status(plan_id: int, action_id: int):
    plan = _plan(plan_id)
    item = _action(plan, action_id)
    require(item.can_manage(current_user))
    ops.ensure_monitoring(plan)
    form = ActionStatusForm()
    if not form.validate():
        return _render_action(plan, item, status_form=form, status=400)
    changes = ops.set_action_status(item, current_user, form.status.data)
    db.session.commit()
    flash(_("Stato dell'azione: %(status)s.", status=item.status_label) if changes
          else _("Nessuna modifica da salvare."), "success")
    return _back_to_action(plan, item, "monitoraggio")


@record_bp.post("/facilitazione/piano/<int:plan_id>/azioni/<int:action_id>/avanzamenti")
def progress_new(plan_id: int, action_id: int):
    plan = _plan(plan_id)
    item = _action(plan, action_id)
    require(item.can_manage(current_user))
    ops.ensure_monitoring(plan)
    form = progress_form_class(item.indicators)()
    if not form.validate():
        return _render_action(plan, item, progress_form=form, status=400)
    try:
        ops.add_progress_update(item, current_user, reported_on=form.reported_on.data, text=form.text.data,
                                values=form.indicator_values())
    except TransitionError as error:
        _refused(form, error, "reported_on")
        return _render_action(plan, _action(plan, action_id), progress_form=form, status=400)
    db.session.commit()
    flash(_("Avanzamento registrato."), "success")
    return _back_to_action(plan, item, "monitoraggio")


@bp.app_template_global("plan_can_take_in")
def _can_take_in(plan) -> bool:
    return plan.can_manage_record(current_user) and plan.record_editable
