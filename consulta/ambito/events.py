"""The Ambito's words in the event catalogue: its set-up."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from consulta.core.events import Field, action, subject

action("ambito.create", _l("Ambito impostato"))
action("ambito.update", _l("Ambito modificato"))

subject("ambito", _l("Ambito"), fields={
    "number": Field(_l("numero")),
    "region": Field(_l("regione")),
    "comuni": Field(_l("comuni")),
    "lead_comune": Field(_l("comune capofila")),
})
