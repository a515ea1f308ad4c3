"""Operations on the plan record. Each checks that the record may change, applies the
change, writes one PlanRevision per changed field (sharing a batch) and an AuditEvent,
and flushes; the view commits.

Every change to the record goes through `_revise`, so nothing changes without a trace:
before adoption the revisions are "redazione"; after adoption they belong to the open
aggiornamento (RevisionSet), and without one the change is refused (409).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import aliased

from consulta.core import audit
from consulta.core.db import utcnow
from consulta.core.events import phrase_key
from consulta.core.permissions import facilitates, is_admin
from consulta.core.states import TransitionError
from consulta.core.text import clean_plain, render_markdown
from consulta.extensions import db
from consulta.plan.models import Plan, PlanStatus
from consulta.plan.record import (
    ACTION_STATUS_LABELS,
    FIRST_YEAR,
    LAST_YEAR,
    ActionStatus,
    BudgetLine,
    FrozenRecord,
    FundingSource,
    Indicator,
    IndicatorValue,
    PlanAction,
    PlanArea,
    PlanInput,
    PlanObjective,
    PlanRevision,
    ProgressUpdate,
    RevisionKind,
    RevisionSet,
)

APPROVING_OUTCOMES = ("approved", "partially_approved")
MAX_AMOUNT = Decimal("999999999999.99")


# =========================================================================== revisions

def _stored(value: Any) -> str | None:
    """The canonical text of a value in the history: exact decimals, ISO dates."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _kind_for(plan: Plan, monitoring: bool = False) -> tuple[str, RevisionSet | None]:
    if monitoring:
        return RevisionKind.monitoring.value, None
    if plan.status in (PlanStatus.preparing, PlanStatus.consulting):
        return RevisionKind.drafting.value, None
    open_set = plan.open_revision_set
    if open_set is None or plan.status == PlanStatus.closed:
        raise FrozenRecord(closed=plan.status == PlanStatus.closed)
    return RevisionKind.aggiornamento.value, open_set


def ensure_editable(plan: Plan) -> None:
    if not plan.record_editable:
        raise FrozenRecord(closed=plan.status == PlanStatus.closed)


def ensure_monitoring(plan: Plan) -> None:
    if plan.status != PlanStatus.monitoring:
        raise TransitionError(_("Lo stato delle azioni e gli avanzamenti si registrano quando il piano è in "
                                "monitoraggio."), 409)


@dataclass
class Change:
    field: str | None
    old: Any = None
    new: Any = None


def _item_key(item) -> tuple[str, int, str]:
    """(item type, id, label) of a record item for the history."""
    if isinstance(item, PlanArea):
        return "area", item.id, item.title
    if isinstance(item, PlanObjective):
        return "objective", item.id, item.title
    if isinstance(item, PlanAction):
        return "action", item.id, item.title
    if isinstance(item, Indicator):
        return "indicator", item.id, item.name
    if isinstance(item, BudgetLine):
        return "budget_line", item.id, phrase_key("plan_record.budget_line", f"{item.funding_source}|{item.year or ''}")
    if isinstance(item, PlanInput):
        return "input", item.id, item.decision.subject_title
    if isinstance(item, ProgressUpdate):
        return "progress", item.id, item.reported_on.isoformat()
    raise TypeError(type(item))


def _owner_key(item) -> tuple[str, int]:
    """The area, objective or action whose history lists a change to `item`."""
    if isinstance(item, (PlanArea, PlanObjective, PlanAction)):
        kind, ident, _label = _item_key(item)
        return kind, ident
    if isinstance(item, (Indicator, BudgetLine, ProgressUpdate)):
        return "action", item.action_id
    if isinstance(item, PlanInput):
        return ("objective", item.plan_objective_id) if item.plan_objective_id else ("action", item.plan_action_id)
    raise TypeError(type(item))


def _revise(plan: Plan, actor, item, operation: str, changes: list[Change], *, monitoring: bool = False,
            label: str | None = None) -> str:
    """Write the revisions of one operation; returns its batch id. Refuses a frozen record."""
    kind, revision_set = _kind_for(plan, monitoring)
    if item.id is None:
        db.session.flush()
    batch = uuid.uuid4().hex
    item_type, item_id, item_label = _item_key(item)
    owner_type, owner_id = _owner_key(item)
    now = utcnow()
    for change in changes or [Change(None)]:
        db.session.add(PlanRevision(
            plan_id=plan.id, kind=kind, revision_set_id=revision_set.id if revision_set else None, batch=batch,
            changed_at=now, actor_id=actor.id, actor_name=actor.display_name, operation=operation,
            item_type=item_type, item_id=item_id, item_label=(label or item_label)[:300],
            owner_type=owner_type, owner_id=owner_id, field=change.field,
            old_value=_stored(change.old), new_value=_stored(change.new),
        ))
    audit.record(actor, f"plan_record.{item_type}.{operation}", item,
                 {c.field: [_stored(c.old), _stored(c.new)] for c in changes if c.field},
                 reason=revision_set.reason if revision_set else None)
    return batch


def _apply(item, values: dict[str, Any]) -> list[Change]:
    """Set the attributes that differ; the Changes say old → new."""
    changes = []
    for name, value in values.items():
        old = getattr(item, name)
        if old != value:
            changes.append(Change(name, old, value))
            setattr(item, name, value)
    return changes


def _created(values: dict[str, Any]) -> list[Change]:
    return [Change(name, None, value) for name, value in values.items() if value not in (None, "")]


def _deleted(item, names: tuple[str, ...]) -> list[Change]:
    return [Change(name, getattr(item, name), None) for name in names if getattr(item, name) not in (None, "")]


def _title(value: str | None, limit: int = 300) -> str:
    title = clean_plain(value)
    if not title:
        raise TransitionError(_("Indica il titolo."), 400)
    if len(title) > limit:
        raise TransitionError(_("Al massimo %(max)d caratteri.", max=limit), 400)
    return title


def _text_fields(description: str | None) -> dict[str, str]:
    text = clean_plain(description, multiline=True)
    return {"description": text, "description_html": render_markdown(text) if text else ""}


def _without_html(changes: list[Change]) -> list[Change]:
    return [c for c in changes if not (c.field or "").endswith("_html")]


def _next_position(model, **where) -> int:
    conditions = [getattr(model, k) == v for k, v in where.items()]
    return (db.session.execute(select(func.max(model.position)).where(*conditions)).scalar() or 0) + 1


# =========================================================================== decisions (provenance)

def eligible_decisions(plan_id: int | None = None, *, tavolo_ids: list[int] | None = None):
    """SELECT of the decisions a plan may take in: approving outcomes of approved, not rectified
    minutes of a tavolo of this plan (or of the tavoli given, whatever their plan)."""
    from consulta.meetings.models import Decision, Minutes
    from consulta.tavoli.models import Tavolo

    correction = aliased(Minutes)
    stmt = (
        select(Decision)
        .join(Minutes, Decision.minutes_id == Minutes.id)
        .join(Tavolo, Minutes.tavolo_id == Tavolo.id)
        .where(Minutes.status == "approved", Decision.outcome.in_(APPROVING_OUTCOMES),
               ~exists().where(and_(correction.corrects_id == Minutes.id, correction.status == "approved")))
    )
    if plan_id is not None:
        stmt = stmt.where(Tavolo.plan_id == plan_id)
    if tavolo_ids is not None:
        stmt = stmt.where(Minutes.tavolo_id.in_(tavolo_ids))
    return stmt


def _decision_refusal(decision, plan: Plan, actor) -> tuple[int, str] | None:
    from consulta.meetings.models import Minutes

    if decision is None:
        return 400, _("Una delle decisioni indicate non esiste.")
    minutes = decision.minutes
    if minutes.tavolo.plan_id != plan.id:
        return 400, _("La decisione su «%(title)s» è di un tavolo di un altro piano: non si può recepire in "
                      "questo.", title=decision.subject_title)
    if minutes.status != "approved":
        return 400, _("La decisione su «%(title)s» è in un verbale non ancora approvato.",
                      title=decision.subject_title)
    if decision.outcome not in APPROVING_OUTCOMES:
        return 400, _("La decisione su «%(title)s» è «%(outcome)s»: nel piano si recepiscono solo le decisioni "
                      "di accoglimento, anche parziale.", title=decision.subject_title,
                      outcome=decision.outcome_label.lower())
    rectified = db.session.execute(select(exists().where(
        Minutes.corrects_id == minutes.id, Minutes.status == "approved"))).scalar()
    if rectified:
        return 400, _("Il verbale n. %(id)d è stato rettificato: recepisci la decisione del verbale di rettifica.",
                      id=minutes.id)
    if not (is_admin(actor) or facilitates(actor, minutes.tavolo)):
        return 403, _("Puoi recepire solo le decisioni dei tavoli che faciliti.")
    return None


def load_decisions(plan: Plan, actor, decision_ids) -> list:
    """The decisions to take in, checked one by one; refuses with the first problem found."""
    from consulta.meetings.models import Decision

    ids = list(dict.fromkeys(int(i) for i in decision_ids))
    found = {d.id: d for d in db.session.execute(select(Decision).where(Decision.id.in_(ids))).scalars()} if ids else {}
    decisions = []
    for ident in ids:
        decision = found.get(ident)
        refusal = _decision_refusal(decision, plan, actor)
        if refusal:
            raise TransitionError(refusal[1], refusal[0])
        decisions.append(decision)
    return decisions


def _input_label(decision) -> str:
    # Stored in the history as a phrase of the event catalogue, said in the reader's language.
    kind = "proposal" if decision.proposal_id is not None else "objective"
    return phrase_key("plan_record.decision",
                      f"{decision.id}|{decision.minutes_id}|{kind}|{decision.outcome}|{decision.subject_title}")


def _link_inputs(plan: Plan, actor, target, decisions) -> list[PlanInput]:
    existing = {i.decision_id for i in target.inputs}
    made = []
    for decision in decisions:
        if decision.id in existing:
            raise TransitionError(_("La decisione su «%(title)s» è già collegata a questa voce del piano.",
                                    title=decision.subject_title), 400)
        row = PlanInput(plan_id=plan.id, decision_id=decision.id, decision=decision,
                        proposal_id=decision.proposal_id, objective_id=decision.objective_id, created_by_id=actor.id)
        if isinstance(target, PlanObjective):
            row.plan_objective = target
            row.plan_objective_id = target.id
        else:
            row.plan_action = target
            row.plan_action_id = target.id
        db.session.add(row)
        db.session.flush()
        _revise(plan, actor, row, "link", [Change("decision", None, _input_label(decision))])
        made.append(row)
    return made


def attach_inputs(target: PlanObjective | PlanAction, actor, decisions) -> list[PlanInput]:
    plan = target.owning_area.plan
    ensure_editable(plan)
    if not decisions:
        raise TransitionError(_("Scegli almeno una decisione da recepire."), 400)
    made = _link_inputs(plan, actor, target, decisions)
    db.session.flush()
    return made


def detach_input(row: PlanInput, actor) -> None:
    plan = row.target.owning_area.plan
    ensure_editable(plan)
    _revise(plan, actor, row, "unlink", [Change("decision", _input_label(row.decision), None)])
    row.target.inputs.remove(row)
    db.session.delete(row)
    db.session.flush()


# =========================================================================== areas

def create_area(plan: Plan, actor, *, title: str, description: str, tavoli: list) -> PlanArea:
    ensure_editable(plan)
    if any(t.plan_id != plan.id for t in tavoli):
        raise TransitionError(_("Si possono collegare solo tavoli di questo piano."), 400)
    area = PlanArea(plan_id=plan.id, plan=plan, title=_title(title, 200), position=_next_position(PlanArea,
                    plan_id=plan.id), **_text_fields(description))
    area.tavoli = list(tavoli)
    db.session.add(area)
    db.session.flush()
    _revise(plan, actor, area, "create", _created({
        "title": area.title, "description": area.description, "tavoli": _names(tavoli)}))
    db.session.flush()
    return area


def _names(items) -> str:
    return ", ".join(getattr(i, "title", None) or i.name for i in items)


def update_area(area: PlanArea, actor, *, title: str, description: str, tavoli: list) -> list[Change]:
    plan = area.plan
    ensure_editable(plan)
    if any(t.plan_id != plan.id for t in tavoli):
        raise TransitionError(_("Si possono collegare solo tavoli di questo piano."), 400)
    changes = _without_html(_apply(area, {"title": _title(title, 200), **_text_fields(description)}))
    old_tavoli = _names(area.tavoli)
    if {t.id for t in area.tavoli} != {t.id for t in tavoli}:
        area.tavoli = list(tavoli)
        changes.append(Change("tavoli", old_tavoli, _names(area.tavoli)))
    if changes:
        _revise(plan, actor, area, "update", changes)
    db.session.flush()
    return changes


def delete_area(area: PlanArea, actor) -> None:
    plan = area.plan
    ensure_editable(plan)
    if area.objectives:
        raise TransitionError(_("L'area contiene obiettivi: spostali o eliminali prima di eliminare l'area."), 409)
    _revise(plan, actor, area, "delete", _deleted(area, ("title", "description")))
    db.session.delete(area)
    db.session.flush()


# =========================================================================== objectives

def create_objective(area: PlanArea, actor, *, title: str, description: str, decisions=()) -> PlanObjective:
    plan = area.plan
    ensure_editable(plan)
    objective = PlanObjective(plan_id=plan.id, area_id=area.id, area=area, title=_title(title),
                              position=_next_position(PlanObjective, area_id=area.id), **_text_fields(description))
    db.session.add(objective)
    db.session.flush()
    _revise(plan, actor, objective, "create", _created({
        "area": area.title, "title": objective.title, "description": objective.description}))
    _link_inputs(plan, actor, objective, decisions)
    db.session.flush()
    return objective


def update_objective(objective: PlanObjective, actor, *, title: str, description: str) -> list[Change]:
    plan = objective.area.plan
    ensure_editable(plan)
    changes = _without_html(_apply(objective, {"title": _title(title), **_text_fields(description)}))
    if changes:
        _revise(plan, actor, objective, "update", changes)
    db.session.flush()
    return changes


def delete_objective(objective: PlanObjective, actor) -> None:
    plan = objective.area.plan
    ensure_editable(plan)
    if objective.actions:
        raise TransitionError(_("L'obiettivo contiene azioni: eliminale prima di eliminare l'obiettivo."), 409)
    for row in list(objective.inputs):
        detach_input(row, actor)
    _revise(plan, actor, objective, "delete", _deleted(objective, ("title", "description")))
    db.session.delete(objective)
    db.session.flush()


# =========================================================================== actions

@dataclass
class ActionFields:
    title: str
    description: str
    beneficiaries: str
    responsible_body: str
    start_date: date | None
    end_date: date | None
    all_comuni: bool
    comuni: list


def _checked_action_fields(fields: ActionFields) -> dict[str, Any]:
    from consulta.ambito.models import Comune

    if fields.start_date and fields.end_date and fields.end_date < fields.start_date:
        raise TransitionError(_("La data di fine non può precedere la data di inizio."), 400)
    comuni = [] if fields.all_comuni else list(fields.comuni)
    if not fields.all_comuni and not comuni:
        raise TransitionError(_("Indica almeno un comune, oppure scegli «tutti i comuni dell'Ambito»."), 400)
    if comuni:
        ids = {c.id for c in comuni}
        known = db.session.execute(select(func.count()).select_from(Comune).where(Comune.id.in_(ids))).scalar_one()
        if known != len(ids):
            raise TransitionError(_("Si possono indicare solo comuni dell'Ambito."), 400)
    return {
        "title": _title(fields.title),
        **_text_fields(fields.description),
        "beneficiaries": clean_plain(fields.beneficiaries, multiline=True),
        "responsible_body": clean_plain(fields.responsible_body),
        "start_date": fields.start_date,
        "end_date": fields.end_date,
        "all_comuni": fields.all_comuni,
        "comuni": sorted(comuni, key=lambda c: c.name),
    }


def _comuni_text(all_comuni: bool, comuni) -> str:
    if not all_comuni:
        return ", ".join(c.name for c in comuni)
    return phrase_key("plan_record.all_comuni")  # stored in the history, like _input_label


def create_action(objective: PlanObjective, actor, fields: ActionFields, decisions=()) -> PlanAction:
    plan = objective.area.plan
    ensure_editable(plan)
    values = _checked_action_fields(fields)
    comuni = values.pop("comuni")
    action = PlanAction(plan_id=plan.id, objective_id=objective.id, objective=objective,
                        status=ActionStatus.planned.value, position=_next_position(PlanAction, objective_id=objective.id),
                        **values)
    action.comuni = comuni
    db.session.add(action)
    db.session.flush()
    shown = {k: v for k, v in values.items() if not k.endswith("_html") and k != "all_comuni"}
    _revise(plan, actor, action, "create", _created({
        "objective": objective.title, **shown, "comuni": _comuni_text(action.all_comuni, comuni)}))
    _link_inputs(plan, actor, action, decisions)
    db.session.flush()
    return action


def update_action(action: PlanAction, actor, fields: ActionFields) -> list[Change]:
    plan = action.objective.area.plan
    ensure_editable(plan)
    values = _checked_action_fields(fields)
    comuni = values.pop("comuni")
    all_comuni = values.pop("all_comuni")
    old_comuni = _comuni_text(action.all_comuni, action.comuni)
    changes = _without_html(_apply(action, values))
    if all_comuni != action.all_comuni or {c.id for c in comuni} != {c.id for c in action.comuni}:
        action.all_comuni = all_comuni
        action.comuni = comuni
        changes.append(Change("comuni", old_comuni, _comuni_text(all_comuni, comuni)))
    if changes:
        _revise(plan, actor, action, "update", changes)
    db.session.flush()
    return changes


def delete_action(action: PlanAction, actor) -> None:
    plan = action.objective.area.plan
    ensure_editable(plan)
    for row in list(action.inputs):
        detach_input(row, actor)
    for line in list(action.budget_lines):
        delete_budget_line(line, actor)
    for indicator in list(action.indicators):
        delete_indicator(indicator, actor)
    _revise(plan, actor, action, "delete", _deleted(action, ("title", "description", "responsible_body")))
    db.session.delete(action)
    db.session.flush()


# =========================================================================== indicators

def check_measure(value: Decimal | None, *, required: bool) -> None:
    if value is None:
        if required:
            raise TransitionError(_("Indica il valore obiettivo."), 400)
        return
    if not value.is_finite() or value < 0 or value > MAX_AMOUNT or value.as_tuple().exponent < -2:
        raise TransitionError(_("Valore non valido: un numero non negativo con al massimo due decimali."), 400)


def add_indicator(action: PlanAction, actor, *, name: str, unit: str, baseline: Decimal | None,
                  target: Decimal) -> Indicator:
    plan = action.objective.area.plan
    ensure_editable(plan)
    check_measure(baseline, required=False)
    check_measure(target, required=True)
    indicator = Indicator(plan_id=plan.id, action_id=action.id, action=action, name=_title(name, 200),
                          unit=clean_plain(unit), baseline=baseline, target=target,
                          position=_next_position(Indicator, action_id=action.id))
    db.session.add(indicator)
    db.session.flush()
    _revise(plan, actor, indicator, "create", _created({
        "name": indicator.name, "unit": indicator.unit, "baseline": baseline, "target": target}))
    db.session.flush()
    return indicator


def update_indicator(indicator: Indicator, actor, *, name: str, unit: str, baseline: Decimal | None,
                     target: Decimal) -> list[Change]:
    plan = indicator.action.objective.area.plan
    ensure_editable(plan)
    check_measure(baseline, required=False)
    check_measure(target, required=True)
    changes = _apply(indicator, {"name": _title(name, 200), "unit": clean_plain(unit), "baseline": baseline,
                                 "target": target})
    if changes:
        _revise(plan, actor, indicator, "update", changes)
    db.session.flush()
    return changes


def delete_indicator(indicator: Indicator, actor) -> None:
    plan = indicator.action.objective.area.plan
    ensure_editable(plan)
    _revise(plan, actor, indicator, "delete", _deleted(indicator, ("name", "unit", "baseline", "target")))
    indicator.action.indicators.remove(indicator)  # keeps the loaded collection true
    db.session.delete(indicator)
    db.session.flush()


# =========================================================================== budget

def check_amount(amount: Decimal | None) -> None:
    """Exact euro: positive, at most two decimals, within NUMERIC(14, 2)."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise TransitionError(_("Indica un importo in euro, per esempio 12.500,00."), 400)
    if amount.as_tuple().exponent < -2:
        raise TransitionError(_("L'importo può avere al massimo due decimali (i centesimi)."), 400)
    if amount < 0:
        raise TransitionError(_("L'importo non può essere negativo."), 400)
    if amount == 0:
        raise TransitionError(_("L'importo deve essere maggiore di zero."), 400)
    if amount > MAX_AMOUNT:
        raise TransitionError(_("L'importo è troppo grande."), 400)


def _check_budget(plan: Plan, amount: Decimal, funding_source: str, year: int) -> None:
    check_amount(amount)
    if funding_source not in FundingSource.__members__:
        raise TransitionError(_("Scegli una fonte di finanziamento dell'elenco."), 400)
    if not (FIRST_YEAR <= year <= LAST_YEAR) or not (plan.period_start <= year <= plan.period_end):
        raise TransitionError(_("L'anno deve essere compreso nel periodo del piano (%(period)s).",
                                period=plan.period_label), 400)


def add_budget_line(action: PlanAction, actor, *, amount: Decimal, funding_source: str, year: int,
                    note: str = "") -> BudgetLine:
    plan = action.objective.area.plan
    ensure_editable(plan)
    _check_budget(plan, amount, funding_source, year)
    line = BudgetLine(plan_id=plan.id, action_id=action.id, action=action, amount=amount.quantize(Decimal("0.01")),
                      funding_source=funding_source, year=year, note=clean_plain(note))
    db.session.add(line)
    db.session.flush()
    _revise(plan, actor, line, "create", _created({
        "amount": line.amount, "funding_source": funding_source, "year": year, "note": line.note}))
    db.session.flush()
    return line


def update_budget_line(line: BudgetLine, actor, *, amount: Decimal, funding_source: str, year: int,
                       note: str = "") -> list[Change]:
    plan = line.action.objective.area.plan
    ensure_editable(plan)
    _check_budget(plan, amount, funding_source, year)
    changes = _apply(line, {"amount": amount.quantize(Decimal("0.01")), "funding_source": funding_source,
                            "year": year, "note": clean_plain(note)})
    if changes:
        _revise(plan, actor, line, "update", changes)
    db.session.flush()
    return changes


def delete_budget_line(line: BudgetLine, actor) -> None:
    plan = line.action.objective.area.plan
    ensure_editable(plan)
    _revise(plan, actor, line, "delete", _deleted(line, ("amount", "funding_source", "year", "note")))
    line.action.budget_lines.remove(line)  # keeps the loaded collection true
    db.session.delete(line)
    db.session.flush()


# =========================================================================== monitoring

def set_action_status(action: PlanAction, actor, status: str) -> list[Change]:
    plan = action.objective.area.plan
    ensure_monitoring(plan)
    if status not in ACTION_STATUS_LABELS:
        raise TransitionError(_("Scegli uno stato dell'elenco."), 400)
    changes = _apply(action, {"status": status})
    if changes:
        _revise(plan, actor, action, "status", changes, monitoring=True)
    db.session.flush()
    return changes


def add_progress_update(action: PlanAction, actor, *, reported_on: date, text: str,
                        values: dict[int, Decimal]) -> ProgressUpdate:
    plan = action.objective.area.plan
    ensure_monitoring(plan)
    text = clean_plain(text, multiline=True)
    if not text:
        raise TransitionError(_("Descrivi l'avanzamento."), 400)
    if reported_on > utcnow().date():
        raise TransitionError(_("La data dell'avanzamento non può essere futura."), 400)
    indicators = {i.id: i for i in action.indicators}
    if any(ident not in indicators for ident in values):
        raise TransitionError(_("Uno degli indicatori indicati non appartiene a questa azione."), 400)
    for value in values.values():
        check_measure(value, required=True)
    update = ProgressUpdate(plan_id=plan.id, action_id=action.id, action=action, reported_on=reported_on, text=text,
                            text_html=render_markdown(text), author_id=actor.id, author_name=actor.display_name)
    for ident, value in values.items():
        update.values.append(IndicatorValue(indicator_id=ident, value=value))
    db.session.add(update)
    db.session.flush()
    changes = [Change("text", None, text)] + [
        Change(f"indicator:{ident}", None, f"{indicators[ident].name}: {_stored(value)}")
        for ident, value in values.items()]
    _revise(plan, actor, update, "progress", changes, monitoring=True)
    db.session.flush()
    return update


# =========================================================================== aggiornamenti

def open_aggiornamento(plan: Plan, actor, *, reason: str) -> RevisionSet:
    reason = clean_plain(reason, multiline=True)
    if not reason:
        raise TransitionError(_("Indica il motivo dell'aggiornamento."), 400)
    if plan.status not in (PlanStatus.adopted, PlanStatus.monitoring):
        raise TransitionError(_("Un aggiornamento si apre solo su un piano adottato o in monitoraggio."), 409)
    if plan.open_revision_set is not None:
        raise TransitionError(_("C'è già un aggiornamento aperto: chiudilo prima di aprirne un altro."), 409)
    number = max((s.number for s in plan.revision_sets), default=0) + 1
    revision_set = RevisionSet(plan_id=plan.id, number=number, reason=reason, opened_at=utcnow(),
                               opened_by_id=actor.id, opened_by_name=actor.display_name)
    plan.revision_sets.append(revision_set)
    db.session.flush()
    audit.record(actor, "plan.aggiornamento_open", plan, {"number": [None, number]}, reason=reason)
    return revision_set


def close_aggiornamento(plan: Plan, actor, *, reference: str | None, approval_date: date | None) -> RevisionSet:
    revision_set = plan.open_revision_set
    if revision_set is None:
        raise TransitionError(_("Non c'è un aggiornamento aperto."), 409)
    if (reference and not approval_date) or (approval_date and not reference):
        raise TransitionError(_("Indica sia il riferimento sia la data della deliberazione, oppure nessuno dei "
                                "due."), 400)
    revision_set.closed_at = utcnow()
    revision_set.closed_by_name = actor.display_name
    revision_set.approval_reference = clean_plain(reference) or None
    revision_set.approval_date = approval_date
    db.session.flush()
    audit.record(actor, "plan.aggiornamento_close", plan, {"number": [revision_set.number, None],
                                                           "approval_reference": [None, revision_set.approval_reference]})
    return revision_set
