from flask import Blueprint

bp = Blueprint("admin", __name__)

from consulta.admin import views  # noqa: E402,F401
