from flask import Blueprint

bp = Blueprint("tavoli", __name__)

from consulta.tavoli import views  # noqa: E402,F401
