"""The Ambito and the public home page."""

from flask import Blueprint

bp = Blueprint("ambito", __name__)

from consulta.ambito import cli, views  # noqa: E402,F401
