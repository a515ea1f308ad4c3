"""Routes of the plan domain (stub)."""

from consulta.plan import bp


@bp.get("/")
def index():
    return "", 204
