"""Routes of the admin domain (stub)."""

from consulta.admin import bp


@bp.get("/")
def index():
    return "", 204
