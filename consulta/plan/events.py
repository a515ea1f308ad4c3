"""The plan's words in the event catalogue: editions and their lifecycle, the plan record and its history."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from consulta.core.events import Field, action, notice, phrase, subject
from consulta.meetings.models import OBJECTIVE_OUTCOME_LABELS, PROPOSAL_OUTCOME_LABELS
from consulta.plan.models import PLAN_STATUS_LABELS
from consulta.plan.presentation import FIELD_LABELS, field_label, field_value
from consulta.plan.record import FUNDING_SOURCE_LABELS

action("plan.create", _l("Piano creato"))
action("plan.update", _l("Piano modificato"))
action("plan.open_consultation", _l("Piano aperto alla concertazione"))
action("plan.back_to_preparing", _l("Piano riportato in preparazione"))
action("plan.adopt", _l("Piano adottato"))
action("plan.start_monitoring", _l("Piano in monitoraggio"))
action("plan.close", _l("Piano concluso"))
action("plan.aggiornamento_open", _l("Aggiornamento del piano aperto"))
action("plan.aggiornamento_close", _l("Aggiornamento del piano chiuso"))
# The plan record's history: "plan_record.<item>.<operation>" (plan.record_operations._revise).
action("plan_record.area.create", _l("Area del piano creata"))
action("plan_record.area.update", _l("Area del piano modificata"))
action("plan_record.area.delete", _l("Area del piano eliminata"))
action("plan_record.objective.create", _l("Obiettivo del piano creato"))
action("plan_record.objective.update", _l("Obiettivo del piano modificato"))
action("plan_record.objective.delete", _l("Obiettivo del piano eliminato"))
action("plan_record.action.create", _l("Azione del piano creata"))
action("plan_record.action.update", _l("Azione del piano modificata"))
action("plan_record.action.delete", _l("Azione del piano eliminata"))
action("plan_record.action.status", _l("Stato di un'azione del piano cambiato"))
action("plan_record.indicator.create", _l("Indicatore creato"))
action("plan_record.indicator.update", _l("Indicatore modificato"))
action("plan_record.indicator.delete", _l("Indicatore eliminato"))
action("plan_record.budget_line.create", _l("Voce di spesa creata"))
action("plan_record.budget_line.update", _l("Voce di spesa modificata"))
action("plan_record.budget_line.delete", _l("Voce di spesa eliminata"))
action("plan_record.progress.progress", _l("Avanzamento di un'azione registrato"))
action("plan_record.input.link", _l("Decisione recepita nel piano"))
action("plan_record.input.unlink", _l("Decisione tolta dal piano"))

notice("plan.adopted", _l("Piano adottato"), digest="plan")


# What the plan record's history writes in its own words (plan.record_operations).
def _decision(argument: str | None) -> str:
    """"decision id|minutes id|proposal or objective|outcome|title": a decision taken into the plan."""
    decision, minutes, kind, outcome, title = (argument or "").split("|", 4)
    labels = PROPOSAL_OUTCOME_LABELS if kind == "proposal" else OBJECTIVE_OUTCOME_LABELS
    return gettext("Decisione n. %(decision)s del verbale n. %(minutes)s: «%(title)s» (%(outcome)s)",
                   decision=decision, minutes=minutes, title=title, outcome=str(labels.get(outcome, outcome)).lower())


def _budget_line(argument: str | None) -> str:
    """"funding source|year": a budget line named in the history."""
    source, _sep, year = (argument or "").partition("|")
    return f"{FUNDING_SOURCE_LABELS.get(source, source)} {year}".strip()


phrase("plan_record.decision", _decision)
phrase("plan_record.all_comuni", lambda _argument: gettext("Tutti i comuni dell'Ambito"))
phrase("plan_record.budget_line", _budget_line)

subject("plan", _l("Piano"), fields={
    "status": Field(_l("stato"), PLAN_STATUS_LABELS),
    "period": Field(_l("periodo")),
    "period_start": Field(_l("primo anno")),
    "period_end": Field(_l("ultimo anno")),
    "adoption_reference": Field(_l("deliberazione di adozione")),
    "adoption_date": Field(_l("data di adozione")),
    "number": Field(_l("aggiornamento n.")),
    "approval_reference": Field(_l("deliberazione di approvazione")),
})


def _record_field(key: str) -> Field | None:
    """A field of the plan record's history, with the words and formats of the history pages."""
    if key not in FIELD_LABELS and not key.startswith("indicator:"):
        return None
    return Field(field_label(key), show=lambda value: field_value(key, value))


for _key, _label in (
    ("plan_area", _l("Area del piano")),
    ("plan_objective", _l("Obiettivo del piano")),
    ("plan_action", _l("Azione del piano")),
    ("plan_indicator", _l("Indicatore")),
    ("plan_budget_line", _l("Voce di spesa")),
    ("plan_input", _l("Decisione recepita")),
    ("plan_progress_update", _l("Avanzamento")),
):
    subject(_key, _label, field_of=_record_field)
