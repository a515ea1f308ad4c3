"""Moderation and facilitation: queue, flags, hide/restore with reasons, public moderation log."""

from flask import Blueprint

bp = Blueprint("moderation", __name__)

from consulta.moderation import views  # noqa: E402,F401  (routes register on import)
