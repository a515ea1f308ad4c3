from flask import Blueprint

bp = Blueprint("meetings", __name__)

from consulta.meetings import views  # noqa: E402,F401
