"""The digests' words in the event catalogue: unsubscribing, and the admin's outbox."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from consulta.core.events import Field, action, subject
from consulta.digests.models import OUTBOX_STATUS_LABELS

action("digest.unsubscribe", _l("Disiscrizione dai riepiloghi"))
action("outbox.send_now", _l("E-mail rimessa in coda per l'invio"))

subject("outbox_email", _l("E-mail in uscita"), fields={
    "status": Field(_l("stato"), OUTBOX_STATUS_LABELS),
})
