"""Routes of the tavoli domain: public tavolo and objective pages, following,
the facilitation area (objectives, phases) and the admin pages for plans and tavoli.

Each route loads with explicit loader options, checks a model's can_* method,
calls one operation, commits once and redirects.
"""

from __future__ import annotations

import re

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, lazyload, selectinload
from wtforms.fields.choices import SelectChoice

from consulta.accounts.models import User
from consulta.core import layout
from consulta.core.errors import abort_with
from consulta.core.fragments import visitor_body
from consulta.core.input_guard import paginate
from consulta.core.submissions import one_time, remember
from consulta.core.templating import days_left
from consulta.core.views import load_or_404, require, safe_next_url
from consulta.extensions import db
from consulta.plan.forms import AdoptionForm, PlanForm
from consulta.plan.models import Plan, PlanStatus
from consulta.plan.operations import change_plan_status, create_plan, update_plan
from consulta.tavoli import bp
from consulta.tavoli import operations as ops
from consulta.tavoli.diff import word_diff
from consulta.tavoli.forms import ObjectiveForm, TavoloForm
from consulta.tavoli.models import (
    OBJECTIVE_STATUS_LABELS,
    Objective,
    ObjectiveRevision,
    ObjectiveStatus,
    Phase,
    Tavolo,
)
from consulta.tavoli.queries import (
    facilitated_tavoli_clause,
    following_clause,
    tavolo_stats,
    visible_tavoli_clause,
)

SLUG_MAX = 120
REASON_MAX = 2000
_REVISION_NUMBER = re.compile(r"^\d{1,9}$")


@bp.app_template_global("tavolo_stats")
def _tavolo_stats_global(tavoli):
    """For pages of other domains (the home page) that list tavoli with their counts."""
    return tavolo_stats(tavoli)


# --- loading -------------------------------------------------------------------

def _tavolo_statement(slug: str):
    """The tavolo by slug, with what its pages show (its plan, its facilitators); 404 for an impossible slug."""
    if len(slug) > SLUG_MAX:
        abort_with(404, _("Tavolo non trovato."))
    return select(Tavolo).where(Tavolo.slug == slug).options(
        joinedload(Tavolo.plan), joinedload(Tavolo.facilitators).lazyload(User.comune))


def _visible(tavolo: Tavolo | None) -> Tavolo:
    """404 when unknown or a draft the user may not see."""
    if tavolo is None or not tavolo.can_view(current_user):
        abort_with(404, _("Tavolo non trovato."))
    return tavolo


def _load_tavolo(slug: str) -> Tavolo:
    return _visible(db.session.execute(_tavolo_statement(slug)).unique().scalar_one_or_none())


def _load_tavolo_page(slug: str) -> tuple[Tavolo, bool]:
    """The tavolo for its public page, and whether the user follows it: one statement, that also reads what
    the layout shows (consulta.core.layout)."""
    row = db.session.execute(
        layout.along(_tavolo_statement(slug).add_columns(following_clause(current_user)), current_user)
    ).unique().one_or_none()
    if row is None:
        return _visible(None), False
    tavolo, following, *for_layout = row
    layout.keep(*for_layout)
    return _visible(tavolo), bool(following)


def _load_objective(tavolo: Tavolo, objective_id: int) -> Objective:
    objective = db.session.execute(
        select(Objective).where(Objective.id == objective_id, Objective.tavolo_id == tavolo.id)
    ).unique().scalar_one_or_none()
    if objective is None or not objective.can_view(current_user):
        abort_with(404, _("Obiettivo non trovato."))
    return objective


def _target(allowed) -> str:
    target = request.form.get("target", "")
    if target not in {str(v) for v in allowed}:
        abort_with(400, _("Passaggio di stato sconosciuto."))
    return target


def _back(default: str) -> str:
    return safe_next_url(request.form.get("next") or request.args.get("next"), default)


# --- public pages ------------------------------------------------------------

@bp.get("/tavoli/")
def index():
    plan = Plan.current()
    tavoli: list[Tavolo] = []
    if plan is not None:
        tavoli = list(db.session.execute(
            select(Tavolo).where(Tavolo.plan_id == plan.id, visible_tavoli_clause(current_user))
            .order_by(Tavolo.position, Tavolo.title)
        ).scalars())
    stats = tavolo_stats(tavoli)
    return render_template("tavoli/index.html", plan=plan, tavoli=tavoli, stats=stats)


@bp.get("/tavoli/<slug>/")
def show(slug: str):
    from consulta.meetings.queries import member_organisations, tavolo_meetings
    from consulta.moderation.queries import latest_moderation_acts
    from consulta.proposals.listing import proposal_listing
    from consulta.proposals.register import Register

    tavolo, following = _load_tavolo_page(slug)
    # Objective.tavolo resolves to the tavolo already in the session: not joined again.
    stmt = select(Objective).where(Objective.tavolo_id == tavolo.id).options(lazyload(Objective.tavolo))
    if not tavolo.can_manage_objectives(current_user):
        stmt = stmt.where(Objective.status != ObjectiveStatus.draft)
    objectives = list(db.session.execute(stmt.order_by(Objective.position, Objective.id)).unique().scalars())
    log_entries, more_log = latest_moderation_acts(tavolo, current_user)
    context = dict(
        tavolo=tavolo, objectives=objectives, listing=proposal_listing(tavolo, request.args, current_user,
                                                                       objectives=objectives),
        stats=tavolo_stats([tavolo])[tavolo.id], following=following, register=Register.of(tavolo),
        log_entries=log_entries, more_log=more_log, tm=tavolo_meetings(tavolo, current_user),
        member_groups=member_organisations(tavolo),
    )

    # The deadline's two time-dependent figures are all the content prints that its data does not hold.
    body = visitor_body("tavoli/_show_body.html", context,
                        clock=lambda: (tavolo.deadline_passed(), days_left(tavolo.proposal_deadline)))
    return render_template("tavoli/show.html", tavolo=tavolo, body=body)


@bp.post("/tavoli/<slug>/segui")
def follow(slug: str):
    tavolo = _load_tavolo(slug)
    require(tavolo.can_follow(current_user))
    ops.follow_tavolo(tavolo, current_user)
    db.session.commit()
    flash(_("Ora segui questo tavolo: riceverai gli aggiornamenti nel tuo riepilogo."), "success")
    return redirect(url_for("tavoli.show", slug=tavolo.slug))


@bp.post("/tavoli/<slug>/non-seguire")
def unfollow(slug: str):
    tavolo = _load_tavolo(slug)
    require(tavolo.can_unfollow(current_user))
    ops.unfollow_tavolo(tavolo, current_user)
    db.session.commit()
    flash(_("Non segui più questo tavolo."), "success")
    return redirect(url_for("tavoli.show", slug=tavolo.slug))


@bp.get("/tavoli/<slug>/obiettivi/<int:objective_id>/")
def objective(slug: str, objective_id: int):
    from consulta.comments.queries import AFTER, comment_thread
    from consulta.votes.tally import vote_panel

    tavolo = _load_tavolo(slug)
    objective = _load_objective(tavolo, objective_id)
    revisions = list(db.session.execute(
        select(ObjectiveRevision).where(ObjectiveRevision.objective_id == objective.id)
        .order_by(ObjectiveRevision.number)
    ).unique().scalars())
    context = dict(tavolo=tavolo, objective=objective, revisions=revisions, subject=objective,
                   thread=comment_thread(objective, current_user, request.args.get(AFTER)),
                   panel=vote_panel(objective, current_user))
    return render_template("tavoli/objective.html", tavolo=tavolo, objective=objective,
                           body=visitor_body("tavoli/_objective_body.html", context))


def _revision_number(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not _REVISION_NUMBER.match(raw.strip()):
        abort_with(400, _("Il numero di revisione deve essere un numero intero."))
    return int(raw)


@bp.get("/tavoli/<slug>/obiettivi/<int:objective_id>/revisioni")
def objective_diff(slug: str, objective_id: int):
    tavolo = _load_tavolo(slug)
    objective = _load_objective(tavolo, objective_id)
    numbers = list(db.session.execute(
        select(ObjectiveRevision.number).where(ObjectiveRevision.objective_id == objective.id)
        .order_by(ObjectiveRevision.number)
    ).scalars())
    if not numbers:
        abort_with(404, _("Questo obiettivo non ha ancora revisioni."))
    newer = _revision_number("a", numbers[-1])
    older = _revision_number("da", max(newer - 1, numbers[0]))
    wanted = {older, newer}
    found = {r.number: r for r in db.session.execute(
        select(ObjectiveRevision).where(ObjectiveRevision.objective_id == objective.id,
                                        ObjectiveRevision.number.in_(wanted))
    ).unique().scalars()}
    if set(found) != wanted:
        abort_with(404, _("Revisione non trovata."))
    old, new = found[older], found[newer]
    labels = {"added_label": _("[aggiunto]"), "removed_label": _("[tolto]")}
    return render_template(
        "tavoli/objective_diff.html", tavolo=tavolo, objective=objective, old=old, new=new, numbers=numbers,
        title_diff=word_diff(old.title, new.title, **labels), body_diff=word_diff(old.body, new.body, **labels),
    )


# --- facilitation ------------------------------------------------------------

@bp.get("/facilitazione/")
def facilitation_home():
    require(Tavolo.can_use_facilitation(current_user))
    page = paginate(
        select(Tavolo).where(facilitated_tavoli_clause(current_user))
        .options(joinedload(Tavolo.plan), selectinload(Tavolo.facilitators))
        .order_by(Tavolo.plan_id.desc(), Tavolo.position, Tavolo.id), per_page=20)
    stats = tavolo_stats(page.items, with_objectives=True)
    # Moderation, meetings and plan read these tavoli's models: imported here to avoid import cycles.
    from consulta.meetings.queries import meetings_at_a_glance
    from consulta.moderation.queries import dashboard_stats, moderated_tavolo_ids, queue_totals
    from consulta.plan.queries import pending_counts_by_tavolo

    ids = [t.id for t in page.items]
    Plan.preload_record_managers({t.plan for t in page.items}, current_user)
    pending, flagged = queue_totals(moderated_tavolo_ids(current_user))
    return render_template("tavoli/facilitation_home.html", page=page, stats=stats,
                           dashboard=dashboard_stats(page.items), meetings=meetings_at_a_glance(ids),
                           to_take_in=pending_counts_by_tavolo(ids), queue_pending=pending,
                           queue_flagged=flagged,
                           statuses=[s.value for s in ObjectiveStatus], status_labels=OBJECTIVE_STATUS_LABELS)


@bp.post("/facilitazione/tavoli/<slug>/fase")
def change_phase(slug: str):
    tavolo = _load_tavolo(slug)
    require(tavolo.can_facilitate(current_user))
    target = _target(Phase)
    reason = (request.form.get("reason") or "").strip() or None
    if reason is not None and len(reason) > REASON_MAX:
        abort_with(400, _("Il motivo può avere al massimo %(max)d caratteri.", max=REASON_MAX))
    # Closing with unanswered proposals: an admin's explicit, motivated override.
    override = request.form.get("override") == "1" and target == Phase.closed
    if override and not tavolo.can_close_unanswered(current_user):
        abort_with(403, _("Solo l'Ufficio di Piano può chiudere un tavolo con proposte ancora senza risposta."))
    if override and reason is None:
        abort_with(400, _("Indica il motivo per cui chiudi il tavolo con proposte ancora senza risposta."))
    ops.change_phase(tavolo, target, current_user, reason=reason, override=override)
    db.session.commit()
    flash(_("Il tavolo «%(title)s» è ora nella fase «%(phase)s».", title=tavolo.title, phase=tavolo.phase_label),
          "success")
    return redirect(_back(url_for("tavoli.show", slug=tavolo.slug)))


@bp.route("/facilitazione/tavoli/<slug>/obiettivi/nuovo", methods=["GET", "POST"])
def objective_new(slug: str):
    tavolo = _load_tavolo(slug)
    require(tavolo.can_manage_objectives(current_user))
    form = one_time(ObjectiveForm)()
    if form.validate_on_submit():
        objective = ops.create_objective(tavolo, current_user, title=form.title.data, body=form.body.data)
        remember(form, objective, url_for("tavoli.objective", slug=tavolo.slug, objective_id=objective.id))
        db.session.commit()
        flash(_("Obiettivo salvato come bozza: pubblicalo quando è pronto."), "success")
        return redirect(url_for("tavoli.objective", slug=tavolo.slug, objective_id=objective.id))
    status = 400 if form.is_submitted() else 200
    return render_template("tavoli/objective_form.html", tavolo=tavolo, objective=None, form=form), status


@bp.route("/facilitazione/tavoli/<slug>/obiettivi/<int:objective_id>/modifica", methods=["GET", "POST"])
def objective_edit(slug: str, objective_id: int):
    tavolo = _load_tavolo(slug)
    objective = _load_objective(tavolo, objective_id)
    require(objective.can_change_status(current_user))
    if not objective.can_edit(current_user):
        abort_with(409, _("Un obiettivo approvato o ritirato non si può più modificare."))
    form = ObjectiveForm(obj=objective if request.method == "GET" else None)
    if request.method == "GET":
        form.note.data = ""
    if form.validate_on_submit():
        revision = ops.update_objective(objective, current_user, title=form.title.data, body=form.body.data,
                                        note=form.note.data)
        db.session.commit()
        if revision is not None:
            flash(_("Modifica salvata come revisione %(number)d.", number=revision.number), "success")
        else:
            flash(_("Modifiche salvate."), "success")
        return redirect(url_for("tavoli.objective", slug=tavolo.slug, objective_id=objective.id))
    status = 400 if form.is_submitted() else 200
    return render_template("tavoli/objective_form.html", tavolo=tavolo, objective=objective, form=form), status


@bp.post("/facilitazione/tavoli/<slug>/obiettivi/<int:objective_id>/stato")
def objective_status(slug: str, objective_id: int):
    tavolo = _load_tavolo(slug)
    objective = _load_objective(tavolo, objective_id)
    require(objective.can_change_status(current_user))
    target = _target(ObjectiveStatus)
    ops.change_objective_status(objective, target, current_user)
    db.session.commit()
    messages = {
        "published": _("Obiettivo pubblicato: il testo è registrato come revisione 1."),
        "approved": _("Obiettivo approvato."),
        "dropped": _("Obiettivo ritirato."),
    }
    flash(messages.get(target, _("Stato aggiornato.")), "success")
    return redirect(_back(url_for("tavoli.objective", slug=tavolo.slug, objective_id=objective.id)))


# --- admin: plans -----------------------------------------------------------

@bp.get("/gestione/piani/")
def admin_plans():
    require(Plan.can_create(current_user))
    page = paginate(select(Plan).order_by(Plan.period_start.desc(), Plan.id.desc()), per_page=20)
    counts = dict(db.session.execute(
        select(Tavolo.plan_id, func.count()).where(Tavolo.plan_id.in_([p.id for p in page.items]))
        .group_by(Tavolo.plan_id)
    ).all())
    return render_template("tavoli/admin_plans.html", page=page, counts=counts)


@bp.route("/gestione/piani/nuovo", methods=["GET", "POST"])
def admin_plan_new():
    require(Plan.can_create(current_user))
    form = PlanForm()
    if form.validate_on_submit():
        plan = create_plan(current_user, title=form.title.data, period_start=form.period_start.data,
                           period_end=form.period_end.data, description=form.description.data)
        db.session.commit()
        flash(_("Piano creato. Ora puoi aggiungere i tavoli tematici."), "success")
        return redirect(url_for("tavoli.admin_plan", plan_id=plan.id))
    status = 400 if form.is_submitted() else 200
    return render_template("tavoli/plan_form.html", plan=None, form=form), status


def _load_plan(plan_id: int) -> Plan:
    return load_or_404(Plan, plan_id)


@bp.get("/gestione/piani/<int:plan_id>/")
def admin_plan(plan_id: int):
    plan = _load_plan(plan_id)
    require(plan.can_edit(current_user))
    return _render_admin_plan(plan, AdoptionForm(formdata=None))


def _render_admin_plan(plan: Plan, adoption_form: AdoptionForm, status: int = 200):
    tavoli = list(db.session.execute(
        select(Tavolo).where(Tavolo.plan_id == plan.id).options(selectinload(Tavolo.facilitators))
        .order_by(Tavolo.position, Tavolo.id)
    ).scalars())
    return render_template("tavoli/admin_plan.html", plan=plan, tavoli=tavoli, adoption_form=adoption_form,
                           stats=tavolo_stats(tavoli)), status


@bp.route("/gestione/piani/<int:plan_id>/modifica", methods=["GET", "POST"])
def admin_plan_edit(plan_id: int):
    plan = _load_plan(plan_id)
    require(plan.can_edit(current_user))
    form = PlanForm(obj=plan if request.method == "GET" else None)
    if form.validate_on_submit():
        changes = update_plan(plan, current_user, title=form.title.data, period_start=form.period_start.data,
                              period_end=form.period_end.data, description=form.description.data)
        db.session.commit()
        flash(_("Piano aggiornato.") if changes else _("Nessuna modifica da salvare."), "success")
        return redirect(url_for("tavoli.admin_plan", plan_id=plan.id))
    status = 400 if form.is_submitted() else 200
    return render_template("tavoli/plan_form.html", plan=plan, form=form), status


@bp.post("/gestione/piani/<int:plan_id>/stato")
def admin_plan_status(plan_id: int):
    plan = _load_plan(plan_id)
    require(plan.can_edit(current_user))
    target = _target(PlanStatus)
    reference = date = None
    if target == PlanStatus.adopted:
        form = AdoptionForm()
        if not form.validate():
            return _render_admin_plan(plan, form, 400)
        reference, date = form.adoption_reference.data, form.adoption_date.data
    change_plan_status(plan, target, current_user, adoption_reference=reference, adoption_date=date)
    db.session.commit()
    flash(_("Il piano è ora «%(status)s».", status=plan.status_label), "success")
    return redirect(url_for("tavoli.admin_plan", plan_id=plan.id))


# --- admin: tavoli ------------------------------------------------------------

def _tavolo_form(tavolo: Tavolo | None) -> TavoloForm:
    form = TavoloForm(obj=tavolo if (tavolo is not None and request.method == "GET") else None)
    candidates = ops.facilitator_candidates()
    # Keep a current facilitator listed even if their role changed since.
    if tavolo is not None:
        known = {u.id for u in candidates}
        candidates += [u for u in tavolo.facilitators if u.id not in known]
    form.facilitators.choices = [SelectChoice(u.id, u.display_name) for u in candidates]
    form.facilitator_users = candidates
    if tavolo is not None and request.method == "GET":
        form.facilitators.data = [u.id for u in tavolo.facilitators]
        form.set_deadline(tavolo.proposal_deadline)
    return form


def _tavolo_fields(form: TavoloForm) -> dict:
    return dict(
        title=form.title.data, slug=form.slug.data or None, area=form.area.data,
        description=form.description.data, facilitator_ids=form.facilitators.data or [],
        deadline=form.deadline_utc(), moderation=form.moderation.data, vote_mode=form.vote_mode.data,
        quorum=form.quorum.data,
    )


def _slug_taken(form: TavoloForm):
    db.session.rollback()
    form.slug.errors = [*form.slug.errors, _("Questo indirizzo è già usato da un altro tavolo: scegline un altro.")]


@bp.route("/gestione/piani/<int:plan_id>/tavoli/nuovo", methods=["GET", "POST"])
def admin_tavolo_new(plan_id: int):
    plan = _load_plan(plan_id)
    require(plan.can_edit(current_user))
    if not plan.can_add_tavolo(current_user):
        abort_with(409, _("Non si possono aggiungere tavoli a un piano già adottato o concluso."))
    form = _tavolo_form(None)
    if form.validate_on_submit():
        try:
            tavolo = ops.create_tavolo(plan, current_user, **_tavolo_fields(form))
            db.session.commit()
        except (ops.SlugTaken, IntegrityError):
            _slug_taken(form)
        else:
            flash(_("Tavolo creato in preparazione: aprilo alle proposte quando è pronto."), "success")
            return redirect(url_for("tavoli.show", slug=tavolo.slug))
    status = 400 if form.is_submitted() else 200
    return render_template("tavoli/tavolo_form.html", plan=plan, tavolo=None, form=form), status


@bp.route("/gestione/tavoli/<slug>/modifica", methods=["GET", "POST"])
def admin_tavolo_edit(slug: str):
    tavolo = _load_tavolo(slug)
    require(tavolo.can_edit(current_user))
    form = _tavolo_form(tavolo)
    if form.validate_on_submit():
        try:
            changes = ops.update_tavolo(tavolo, current_user, **_tavolo_fields(form))
            db.session.commit()
        except (ops.SlugTaken, IntegrityError):
            _slug_taken(form)
        else:
            flash(_("Tavolo aggiornato.") if changes else _("Nessuna modifica da salvare."), "success")
            return redirect(url_for("tavoli.show", slug=tavolo.slug))
    status = 400 if form.is_submitted() else 200
    return render_template("tavoli/tavolo_form.html", plan=tavolo.plan, tavolo=tavolo, form=form), status
