"""The admin area's words in the event catalogue: roles and blocks."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from consulta.core.events import action

action("user.role_change", _l("Ruolo cambiato"))
action("user.block", _l("Account bloccato"))
action("user.unblock", _l("Account sbloccato"))
