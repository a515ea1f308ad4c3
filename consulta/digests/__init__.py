"""Notifications page, digest preferences, e-mail digests and the admin outbox."""

from flask import Blueprint

bp = Blueprint("digests", __name__)

from consulta.digests import views  # noqa: E402,F401
