"""The comments' words in the event catalogue."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from consulta.comments.models import STANCE_LABELS
from consulta.core.events import Field, action, notice, subject
from consulta.proposals.events import VISIBILITY_LABELS

action("comment.edit", _l("Commento modificato dall'autore"))
action("comment.delete", _l("Commento cancellato dall'autore"))

notice("comment.created", _l("Nuovo commento"), digest="comment")
notice("comment.reply", _l("Risposta a un tuo commento"), digest="comment")

subject("comment", _l("Commento"), fields={
    "visibility": Field(_l("visibilità"), VISIBILITY_LABELS),
    "stance": Field(_l("posizione"), STANCE_LABELS),
    "body_length": Field(_l("lunghezza del testo (caratteri)")),
    "deleted": Field(_l("cancellato")),
})
