"""Italian labels for the audit log: actions and subject types, and links to subjects."""

from __future__ import annotations

from datetime import datetime

from flask import url_for
from flask_babel import lazy_gettext as _l

from consulta.core.formatting import format_datetime
from consulta.moderation.queries import LOG_ACTIONS

ACTION_LABELS = {
    "organisation.request": _l("Richiesta di registrare un'organizzazione"),
    "organisation.verify": _l("Organizzazione verificata"),
    "organisation.reject": _l("Organizzazione respinta"),
    "organisation.revoke": _l("Verifica dell'organizzazione revocata"),
    "membership.request": _l("Richiesta di rappresentare un'organizzazione"),
    "membership.accept": _l("Rappresentanza confermata"),
    "membership.reject": _l("Rappresentanza respinta"),
    "membership.revoke": _l("Rappresentanza revocata"),
    "user.role_change": _l("Ruolo cambiato"),
    "user.block": _l("Account bloccato"),
    "user.unblock": _l("Account sbloccato"),
    "user.create_admin": _l("Amministratore creato"),
    "tavolo.open": _l("Tavolo aperto alle proposte"),
    "tavolo.back_to_draft": _l("Tavolo riportato in preparazione"),
    "tavolo.start_discussion": _l("Tavolo in discussione"),
    "tavolo.reopen": _l("Tavolo riaperto alle proposte"),
    "tavolo.close": _l("Tavolo chiuso"),
    "tavolo.reopen_discussion": _l("Tavolo riaperto alla discussione"),
    "objective.publish": _l("Obiettivo pubblicato"),
    "objective.approve": _l("Obiettivo approvato"),
    "objective.drop": _l("Obiettivo ritirato"),
    "proposal.publish": _l("Proposta pubblicata"),
    "proposal.withdraw": _l("Proposta ritirata dall'autore"),
    "proposal.edit": _l("Proposta modificata dall'autore"),
    "plan.open_consultation": _l("Piano aperto alla concertazione"),
    "plan.adopt": _l("Piano adottato"),
    "plan.start_monitoring": _l("Piano in monitoraggio"),
    "plan.close": _l("Piano concluso"),
    "meeting.schedule": _l("Incontro convocato"),
    "meeting.cancel": _l("Incontro annullato"),
    "meeting.record_held": _l("Incontro già svolto registrato"),
    "minutes.approve": _l("Verbale approvato"),
    "minutes.rectify": _l("Rettifica di un verbale"),
    # Every other action the code records: each has its words (tests/test_catalogue.py checks it).
    "ambito.create": _l("Ambito impostato"),
    "ambito.update": _l("Ambito modificato"),
    "user.register": _l("Registrazione"),
    "user.verify_email": _l("Indirizzo e-mail verificato"),
    "user.update_profile": _l("Profilo modificato"),
    "user.password_change": _l("Password cambiata"),
    "user.password_reset": _l("Password reimpostata"),
    "user.email_change_request": _l("Richiesta di cambiare l'indirizzo e-mail"),
    "user.email_change": _l("Indirizzo e-mail cambiato"),
    "digest.unsubscribe": _l("Disiscrizione dai riepiloghi"),
    "outbox.send_now": _l("E-mail rimessa in coda per l'invio"),
    "tavolo.create": _l("Tavolo creato"),
    "tavolo.update": _l("Tavolo modificato"),
    "tavolo_member.request": _l("Richiesta di sedere al tavolo"),
    "tavolo_member.accept": _l("Membro del tavolo accettato"),
    "tavolo_member.reject": _l("Richiesta di sedere al tavolo respinta"),
    "tavolo_member.leave": _l("Uscita dal tavolo"),
    "tavolo_member.withdraw": _l("Richiesta di sedere al tavolo ritirata"),
    "tavolo_member.update": _l("Delegati del tavolo cambiati"),
    "objective.create": _l("Obiettivo creato"),
    "objective.update": _l("Obiettivo modificato"),
    "objective.revise": _l("Nuova revisione dell'obiettivo"),
    "proposal.submit": _l("Proposta inviata"),
    "proposal.flag": _l("Proposta segnalata"),
    "comment.flag": _l("Commento segnalato"),
    "comment.edit": _l("Commento modificato dall'autore"),
    "comment.delete": _l("Commento cancellato dall'autore"),
    "meeting.update": _l("Incontro modificato"),
    "meeting.held": _l("Incontro svolto"),
    "minutes.create": _l("Verbale iniziato"),
    "minutes.edit": _l("Testo del verbale modificato"),
    "minutes.attendance": _l("Presenze del verbale aggiornate"),
    "minutes.delete": _l("Bozza di verbale eliminata"),
    "minutes.decision_confirmed": _l("Decisione del verbale confermata"),
    "plan.create": _l("Piano creato"),
    "plan.update": _l("Piano modificato"),
    "plan.back_to_preparing": _l("Piano riportato in preparazione"),
    "plan.aggiornamento_open": _l("Aggiornamento del piano aperto"),
    "plan.aggiornamento_close": _l("Aggiornamento del piano chiuso"),
    "plan_record.area.create": _l("Area del piano creata"),
    "plan_record.area.update": _l("Area del piano modificata"),
    "plan_record.area.delete": _l("Area del piano eliminata"),
    "plan_record.objective.create": _l("Obiettivo del piano creato"),
    "plan_record.objective.update": _l("Obiettivo del piano modificato"),
    "plan_record.objective.delete": _l("Obiettivo del piano eliminato"),
    "plan_record.action.create": _l("Azione del piano creata"),
    "plan_record.action.update": _l("Azione del piano modificata"),
    "plan_record.action.delete": _l("Azione del piano eliminata"),
    "plan_record.action.status": _l("Stato di un'azione del piano cambiato"),
    "plan_record.indicator.create": _l("Indicatore creato"),
    "plan_record.indicator.update": _l("Indicatore modificato"),
    "plan_record.indicator.delete": _l("Indicatore eliminato"),
    "plan_record.budget_line.create": _l("Voce di spesa creata"),
    "plan_record.budget_line.update": _l("Voce di spesa modificata"),
    "plan_record.budget_line.delete": _l("Voce di spesa eliminata"),
    "plan_record.progress.progress": _l("Avanzamento di un'azione registrato"),
    "plan_record.input.link": _l("Decisione recepita nel piano"),
    "plan_record.input.unlink": _l("Decisione tolta dal piano"),
}
# The moderation acts have their public wording already.
ACTION_LABELS.update(LOG_ACTIONS)

SUBJECT_LABELS = {
    "organisation": _l("Organizzazione"),
    "membership": _l("Rappresentanza"),
    "user": _l("Utente"),
    "plan": _l("Piano"),
    "tavolo": _l("Tavolo"),
    "objective": _l("Obiettivo"),
    "proposal": _l("Proposta"),
    "comment": _l("Commento"),
    "vote": _l("Voto"),
    "meeting": _l("Incontro"),
    "minutes": _l("Verbale"),
    "ambito": _l("Ambito"),
    "tavolo_member": _l("Membro del tavolo"),
    "outbox_email": _l("E-mail in uscita"),
    "plan_area": _l("Area del piano"),
    "plan_objective": _l("Obiettivo del piano"),
    "plan_action": _l("Azione del piano"),
    "plan_indicator": _l("Indicatore"),
    "plan_budget_line": _l("Voce di spesa"),
    "plan_input": _l("Decisione recepita"),
    "plan_progress_update": _l("Avanzamento"),
}

# Subjects with a page: the admin pages of this area, the public proposal page.
_ADMIN_PAGES = {
    "organisation": ("admin.organisation", "organisation_id"),
    "membership": ("admin.membership", "membership_id"),
    "user": ("admin.user", "user_id"),
}
_PUBLIC_PATHS = {
    "proposal": "/proposte/{id}/",
}


def subject_url(subject_type: str, subject_id: int | None) -> str | None:
    if subject_id is None:
        return None
    if subject_type in _ADMIN_PAGES:
        endpoint, argument = _ADMIN_PAGES[subject_type]
        return url_for(endpoint, **{argument: subject_id})
    if subject_type in _PUBLIC_PATHS:
        return _PUBLIC_PATHS[subject_type].format(id=subject_id)
    return None


FIELD_LABELS = {
    "status": _l("stato"),
    "state": _l("stato"),
    "phase": _l("fase"),
    "visibility": _l("visibilità"),
    "role": _l("ruolo"),
    "name": _l("nome"),
    "type": _l("tipo"),
    "tax_code": _l("codice fiscale"),
    "organisation_id": _l("organizzazione (id)"),
    "blocked_at": _l("bloccato il"),
    "blocked_reason": _l("motivo del blocco"),
    "email": _l("e-mail"),
    "title": _l("titolo"),
}

VALUE_LABELS = {
    "pending": _l("in attesa"),
    "verified": _l("verificata"),
    "rejected": _l("respinta"),
    "active": _l("attiva"),
    "participant": _l("partecipante"),
    "facilitator": _l("facilitatore/facilitatrice"),
    "admin": _l("amministratore/amministratrice"),
}


def field_label(key: str) -> str:
    return str(FIELD_LABELS.get(key, key))


def format_value(value, key: str | None = None) -> str:
    """A before/after value of the audit log, readable."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_l("sì")) if value else str(_l("no"))
    if isinstance(value, str) and key and key.endswith("_at"):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        return format_datetime(moment, "d MMMM yyyy, HH:mm")
    if isinstance(value, str) and value in VALUE_LABELS:
        return str(VALUE_LABELS[value])
    return str(value)
