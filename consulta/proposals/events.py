"""The proposals' words in the event catalogue: submission, editing, evaluation."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from consulta.core.events import Field, action, notice, reference, subject
from consulta.proposals.models import CHANNEL_LABELS, STATE_LABELS

action("proposal.submit", _l("Proposta inviata"))
action("proposal.publish", _l("Proposta pubblicata"))
action("proposal.edit", _l("Proposta modificata dall'autore"))
action("proposal.withdraw", _l("Proposta ritirata dall'autore"))
action("proposal.review", _l("Proposta presa in valutazione"), public=True)
action("proposal.answer", _l("Risposta alla proposta"), public=True)
action("proposal.merge", _l("Proposta unita a un'altra"), public=True)
action("proposal.record_offline", _l("Registrata una proposta pervenuta fuori linea"), public=True)

notice("proposal.published", _l("Nuova proposta"), digest="proposal")
notice("proposal.withdrawn", _l("Proposta ritirata"), digest="proposal")
notice("proposal.under_review", _l("Proposta in valutazione"), digest="proposal")
notice("proposal.answered", _l("Risposta a una proposta"), digest="proposal")
notice("proposal.merged", _l("Proposta unita a un'altra"), digest="proposal")

# Whether a proposal or a comment can be read by everyone (the same words for both).
VISIBILITY_LABELS = {
    "pending": _l("in attesa di moderazione"),
    "visible": _l("visibile"),
    "hidden": _l("non visibile"),
}

subject("proposal", _l("Proposta"), fields={
    "state": Field(_l("stato"), STATE_LABELS),
    "visibility": Field(_l("visibilità"), VISIBILITY_LABELS),
    "organisation_id": Field(_l("a nome dell'organizzazione"), show=reference),
    "objective_id": Field(_l("obiettivo"), show=reference),
    "body_changed": Field(_l("testo modificato")),
    "answer_length": Field(_l("lunghezza della risposta (caratteri)")),
    "merged_into_id": Field(_l("unita alla proposta"), show=reference),
    "channel": Field(_l("canale"), CHANNEL_LABELS),
    "protocol_number": Field(_l("numero di protocollo")),
    "author_name": Field(_l("autore")),
})
