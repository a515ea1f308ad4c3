"""The organisations' words in the event catalogue: registration, verification, representation."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from consulta.core.events import Field, action, notice, reference, subject
from consulta.organisations.models import (
    CATEGORY_LABELS,
    MEMBERSHIP_STATUS_LABELS,
    ORGANISATION_STATUS_LABELS,
)

action("organisation.request", _l("Richiesta di registrare un'organizzazione"))
action("organisation.verify", _l("Organizzazione verificata"))
action("organisation.reject", _l("Organizzazione respinta"))
action("organisation.revoke", _l("Verifica dell'organizzazione revocata"))
action("membership.request", _l("Richiesta di rappresentare un'organizzazione"))
action("membership.accept", _l("Rappresentanza confermata"))
action("membership.reject", _l("Rappresentanza respinta"))
action("membership.revoke", _l("Rappresentanza revocata"))

notice("organisation.requested", _l("Nuova richiesta di registrare un'organizzazione"), digest="organisation")
notice("organisation.verified", _l("Organizzazione verificata"), digest="organisation")
notice("organisation.rejected", _l("Organizzazione respinta"), digest="organisation")
notice("organisation.revoked", _l("Verifica dell'organizzazione revocata"), digest="organisation")
notice("membership.requested", _l("Nuova richiesta di rappresentare un'organizzazione"), digest="membership")
notice("membership.accepted", _l("Rappresentanza confermata"), digest="membership")
notice("membership.rejected", _l("Rappresentanza respinta"), digest="membership")
notice("membership.revoked", _l("Rappresentanza revocata"), digest="membership")

subject("organisation", _l("Organizzazione"), fields={
    "type": Field(_l("tipo"), CATEGORY_LABELS),
    "tax_code": Field(_l("codice fiscale")),
    "status": Field(_l("stato"), ORGANISATION_STATUS_LABELS),
})
subject("membership", _l("Rappresentanza"), fields={
    "organisation_id": Field(_l("organizzazione"), show=reference),
    "status": Field(_l("stato"), MEMBERSHIP_STATUS_LABELS),
})
