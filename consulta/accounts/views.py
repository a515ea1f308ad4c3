"""Routes of the accounts domain (stub: replaced by the accounts work)."""

from flask import render_template

from consulta.accounts import bp


@bp.route("/accedi", methods=["GET", "POST"])
def login():
    return render_template("errors/error.html", status=501, title="", message="")


@bp.post("/esci")
def logout():
    return "", 204


@bp.route("/registrati", methods=["GET", "POST"])
def register():
    return "", 204


@bp.get("/profilo/")
def profile():
    return "", 204


@bp.post("/profilo/verifica/invia")
def resend_verification():
    return "", 204


@bp.get("/privacy")
def privacy():
    return "", 204
