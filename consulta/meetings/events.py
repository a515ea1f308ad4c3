"""The meetings' words in the event catalogue: members of a tavolo, meetings, minutes and their decisions."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from consulta.core.events import Field, action, notice, phrase, reference, subject, subject_fields
from consulta.meetings.models import (
    MEETING_STATUS_LABELS,
    MEMBER_STATUS_LABELS,
    MINUTES_STATUS_LABELS,
    OBJECTIVE_OUTCOME_LABELS,
    PROPOSAL_OUTCOME_LABELS,
)

action("tavolo_member.request", _l("Richiesta di sedere al tavolo"))
action("tavolo_member.accept", _l("Membro del tavolo accettato"))
action("tavolo_member.reject", _l("Richiesta di sedere al tavolo respinta"))
action("tavolo_member.withdraw", _l("Richiesta di sedere al tavolo ritirata"))
action("tavolo_member.leave", _l("Uscita dal tavolo"))
action("tavolo_member.update", _l("Delegati del tavolo cambiati"))
action("meeting.schedule", _l("Incontro convocato"))
action("meeting.record_held", _l("Incontro già svolto registrato"))
action("meeting.update", _l("Incontro modificato"))
action("meeting.held", _l("Incontro svolto"))
action("meeting.cancel", _l("Incontro annullato"))
action("minutes.create", _l("Verbale iniziato"))
action("minutes.edit", _l("Testo del verbale modificato"))
action("minutes.attendance", _l("Presenze del verbale aggiornate"))
action("minutes.delete", _l("Bozza di verbale eliminata"))
action("minutes.approve", _l("Verbale approvato"))
action("minutes.rectify", _l("Rettifica di un verbale"))
# A decision of approved minutes moves the proposal or objective it is about (their transition tables).
action("minutes.decision", _l("Risposta cambiata dalla decisione del verbale"), public=True)
action("minutes.decision_confirmed", _l("Decisione del verbale confermata"))

notice("tavolo_member.requested", _l("Nuova richiesta di sedere al tavolo"))
notice("tavolo_member.accepted", _l("La tua organizzazione siede al tavolo"))
notice("tavolo_member.rejected", _l("Richiesta di sedere al tavolo non accolta"))
notice("tavolo_member.left", _l("La tua organizzazione non siede più al tavolo"))
notice("meeting.scheduled", _l("Incontro convocato"), digest="meeting")
notice("meeting.updated", _l("Incontro cambiato"), digest="meeting")
notice("meeting.cancelled", _l("Incontro annullato"), digest="meeting")
notice("minutes.approved", _l("Verbale approvato"), digest="minutes")

phrase("minutes.decision", lambda minutes_id: gettext("Decisione del verbale n. %(id)s", id=minutes_id))

subject("tavolo_member", _l("Membro del tavolo"), fields={
    "status": Field(_l("stato"), MEMBER_STATUS_LABELS),
    "delegate_id": Field(_l("delegato"), show=reference),
    "substitute_id": Field(_l("sostituto"), show=reference),
})
subject("meeting", _l("Incontro"), fields={
    "status": Field(_l("stato"), MEETING_STATUS_LABELS),
    "starts_at": Field(_l("inizio")),
    "ends_at": Field(_l("fine")),
    "place": Field(_l("luogo")),
    "online_url": Field(_l("collegamento per partecipare a distanza")),
    "agenda": Field(_l("ordine del giorno")),
})
subject("minutes", _l("Verbale"), fields={
    "status": Field(_l("stato"), MINUTES_STATUS_LABELS),
    "meeting_id": Field(_l("incontro"), show=reference),
    "agenda_items_changed": Field(_l("punti all'ordine del giorno modificati")),
    "text_changed": Field(_l("testo modificato")),
    "members_present": Field(_l("organizzazioni presenti")),
    "quorum_reached": Field(_l("quorum raggiunto")),
    "content_hash": Field(_l("impronta SHA-256")),
    "corrects_id": Field(_l("rettifica il verbale"), show=reference),
})
for _kind, _outcomes in (("proposal", PROPOSAL_OUTCOME_LABELS), ("objective", OBJECTIVE_OUTCOME_LABELS)):
    subject_fields(_kind, {
        "minutes_id": Field(_l("verbale"), show=reference),
        "decision_id": Field(_l("decisione"), show=reference),
        "outcome": Field(_l("esito"), _outcomes),
    })
