"""The accounts' words in the event catalogue: what people do to their own account."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from consulta.accounts.forms import DIGEST_CHOICES, LOCALE_CHOICES, REGISTERED_AS_CHOICES
from consulta.accounts.models import ROLE_LABELS
from consulta.core.events import Field, action, reference, subject

action("user.register", _l("Registrazione"))
action("user.verify_email", _l("Indirizzo e-mail verificato"))
action("user.update_profile", _l("Profilo modificato"))
action("user.password_change", _l("Password cambiata"))
action("user.password_reset", _l("Password reimpostata"))
action("user.email_change_request", _l("Richiesta di cambiare l'indirizzo e-mail"))
action("user.email_change", _l("Indirizzo e-mail cambiato"))
action("user.create_admin", _l("Amministratore creato"))

subject("user", _l("Utente"), fields={
    "role": Field(_l("ruolo"), ROLE_LABELS),
    "registered_as": Field(_l("partecipa come"), {c.value: c.label for c in REGISTERED_AS_CHOICES}),
    "display_name": Field(_l("nome visualizzato")),
    "email": Field(_l("e-mail")),
    "email_verified_at": Field(_l("e-mail verificata il")),
    "privacy_consent_at": Field(_l("informativa accettata il")),
    "session_version": Field(_l("versione delle sessioni")),
    "comune_id": Field(_l("comune di residenza"), show=reference),
    "digest_frequency": Field(_l("riepilogo via e-mail"), {c.value: c.label for c in DIGEST_CHOICES}),
    "locale": Field(_l("lingua"), {c.value: c.label for c in LOCALE_CHOICES}),
    "blocked_at": Field(_l("bloccato il")),
    "blocked_reason": Field(_l("motivo del blocco")),
})
