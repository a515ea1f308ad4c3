"""The tavoli's words in the event catalogue: tavoli, their phases and their draft objectives."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from consulta.core.events import Field, action, notice, reference, subject
from consulta.tavoli.models import OBJECTIVE_STATUS_LABELS, PHASE_LABELS

action("tavolo.create", _l("Tavolo creato"))
action("tavolo.update", _l("Tavolo modificato"))
action("tavolo.open", _l("Tavolo aperto alle proposte"))
action("tavolo.back_to_draft", _l("Tavolo riportato in preparazione"))
action("tavolo.start_discussion", _l("Tavolo in discussione"))
action("tavolo.reopen", _l("Tavolo riaperto alle proposte"))
action("tavolo.close", _l("Tavolo chiuso"))
action("tavolo.reopen_discussion", _l("Tavolo riaperto alla discussione"))
action("objective.create", _l("Obiettivo creato"))
action("objective.update", _l("Obiettivo modificato"))
action("objective.revise", _l("Nuova revisione dell'obiettivo"))
action("objective.publish", _l("Obiettivo pubblicato"))
action("objective.approve", _l("Obiettivo approvato"))
action("objective.drop", _l("Obiettivo ritirato"))

notice("tavolo.phase_changed", _l("Il tavolo ha cambiato fase"), digest="phase")
notice("tavolo.deadline_soon", _l("Il termine per le proposte si avvicina"), digest="deadline")
notice("objective.published", _l("Nuovo obiettivo da discutere"), digest="objective")
notice("objective.revised", _l("Obiettivo modificato"), digest="objective")
notice("objective.approved", _l("Obiettivo approvato"), digest="objective")
notice("objective.dropped", _l("Obiettivo ritirato"), digest="objective")


MODERATION_LABELS = {"post": _l("successiva"), "pre": _l("preventiva")}
VOTE_MODE_LABELS = {"person": _l("ogni persona"), "organisation": _l("una voce per organizzazione")}


def _references(value) -> str:
    return ", ".join(reference(one) for one in value) if isinstance(value, list) else reference(value)


subject("tavolo", _l("Tavolo"), fields={
    "slug": Field(_l("indirizzo")),
    "area": Field(_l("area")),
    "phase": Field(_l("fase"), PHASE_LABELS),
    "facilitators": Field(_l("facilitatori"), show=_references),
    "proposal_deadline": Field(_l("termine per le proposte")),
    "moderation": Field(_l("moderazione"), MODERATION_LABELS),
    "vote_mode": Field(_l("voto"), VOTE_MODE_LABELS),
    "quorum": Field(_l("quorum")),
    "unanswered": Field(_l("proposte senza risposta")),
    "override": Field(_l("chiuso nonostante le proposte senza risposta")),
})
subject("objective", _l("Obiettivo"), fields={
    "status": Field(_l("stato"), OBJECTIVE_STATUS_LABELS),
    "body": Field(_l("testo")),
    "revision": Field(_l("revisione")),
})
