"""Password rules: a minimum length and no password from the common lists."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

_LIST = Path(__file__).with_name("common_passwords.txt")
MAX_LENGTH = 200


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    words = (line.strip().lower() for line in _LIST.read_text(encoding="utf-8").splitlines())
    return frozenset(w for w in words if w and not w.startswith("#"))


def password_problem(password: str, *, email: str = "", display_name: str = "") -> str | None:
    """An Italian message saying what is wrong with the password, or None."""
    minimum = current_app.config.get("PASSWORD_MIN_LENGTH", 10)
    if len(password) < minimum:
        return _("La password deve avere almeno %(num)d caratteri.", num=minimum)
    if len(password) > MAX_LENGTH:
        return _("La password può avere al massimo %(num)d caratteri.", num=MAX_LENGTH)
    lowered = password.lower()
    if lowered in _common() or lowered.rstrip("0123456789!.") in _common():
        return _("Questa password è tra le più usate e facili da indovinare: scegline un'altra.")
    if len(set(password)) < 4:
        return _("La password è troppo ripetitiva: scegline un'altra.")
    local = email.split("@", 1)[0].lower()
    if local and len(local) >= 4 and local in lowered:
        return _("La password non deve contenere il tuo indirizzo e-mail.")
    name = display_name.strip().lower()
    if len(name) >= 4 and name in lowered:
        return _("La password non deve contenere il tuo nome.")
    return None
