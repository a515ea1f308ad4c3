"""Password rules: a minimum length and no password from the common lists."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from flask import current_app

_LIST = Path(__file__).with_name("common_passwords.txt")


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    words = (line.strip().lower() for line in _LIST.read_text(encoding="utf-8").splitlines())
    return frozenset(w for w in words if w and not w.startswith("#"))


def password_problem(password: str, *, email: str = "", display_name: str = "") -> str | None:
    """An Italian message saying what is wrong with the password, or None."""
    minimum = current_app.config.get("PASSWORD_MIN_LENGTH", 10)
    if len(password) < minimum:
        return f"La password deve avere almeno {minimum} caratteri."
    if len(password) > 200:
        return "La password può avere al massimo 200 caratteri."
    lowered = password.lower()
    if lowered in _common() or lowered.rstrip("0123456789!.") in _common():
        return "Questa password è tra le più usate e facili da indovinare: scegline un'altra."
    if len(set(password)) < 4:
        return "La password è troppo ripetitiva: scegline un'altra."
    local = email.split("@", 1)[0].lower()
    if local and len(local) >= 4 and local in lowered:
        return "La password non deve contenere il tuo indirizzo e-mail."
    return None
