"""Routes of the tavoli domain (stub)."""

from consulta.tavoli import bp


@bp.get("/tavoli/")
def index():
    return "", 204


@bp.get("/facilitazione/")
def facilitation_home():
    return "", 204


@bp.get("/tavoli/<slug>/")
def show(slug: str):
    return "", 204
