"""Routes of the organisations domain (stub)."""

from consulta.organisations import bp


@bp.get("/")
def index():
    return "", 204
