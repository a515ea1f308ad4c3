from flask import Blueprint

bp = Blueprint("organisations", __name__)

from consulta.organisations import views  # noqa: E402,F401
