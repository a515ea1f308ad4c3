"""Moderation's words in the event catalogue: its acts (the public moderation log lists them), what the
authors are told, and the reasons for hiding, stored as keys and said in the reader's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from consulta.core.events import Field, action, notice, phrase, stored_text, subject_fields
from consulta.moderation.models import HIDE_REASONS, REASON_LABELS, reason_label

action("proposal.approve", _l("Proposta approvata e pubblicata"), public=True)
action("proposal.hide", _l("Proposta nascosta"), public=True,
       automatic=_l("Proposta nascosta in attesa di revisione"))
action("proposal.hide_confirmed", _l("Confermato l'oscuramento della proposta"), public=True)
action("proposal.restore", _l("Proposta ripristinata"), public=True)
action("proposal.flags_dismissed", _l("Segnalazioni esaminate: la proposta resta visibile"), public=True)
action("proposal.flag", _l("Proposta segnalata"))
action("comment.approve", _l("Commento approvato e pubblicato"), public=True)
action("comment.hide", _l("Commento nascosto"), public=True,
       automatic=_l("Commento nascosto in attesa di revisione"))
action("comment.hide_confirmed", _l("Confermato l'oscuramento del commento"), public=True)
action("comment.restore", _l("Commento ripristinato"), public=True)
action("comment.flags_dismissed", _l("Segnalazioni esaminate: il commento resta visibile"), public=True)
action("comment.flag", _l("Commento segnalato"))

notice("proposal.approved_for_publication", _l("Proposta approvata e pubblicata"), digest="proposal")
notice("proposal.hidden", _l("Proposta nascosta dai moderatori"), digest="proposal")
notice("proposal.restored", _l("Proposta di nuovo visibile"), digest="proposal")
notice("comment.approved", _l("Commento approvato e pubblicato"), digest="moderated_comment")
notice("comment.hidden", _l("Commento nascosto dai moderatori"), digest="moderated_comment")
notice("comment.restored", _l("Commento di nuovo visibile"), digest="moderated_comment")

for _code in HIDE_REASONS:
    phrase(f"moderation.{_code}", lambda _argument, code=_code: reason_label(code))
phrase("moderation.flags", lambda count: ngettext("in attesa di revisione dopo %(num)d segnalazione",
                                                  "in attesa di revisione dopo %(num)d segnalazioni", int(count or 0)))


for _kind in ("proposal", "comment"):
    subject_fields(_kind, {
        "reason_code": Field(_l("motivo"), REASON_LABELS),
        "hidden_reason": Field(_l("motivo dell'oscuramento"), show=stored_text),
        "automatic": Field(_l("automatico")),
        "flags": Field(_l("segnalazioni")),
        "reason": Field(_l("motivo della segnalazione"), REASON_LABELS),
    })
