"""Italian error pages (JSON under /api) for every status a user can meet."""

from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from consulta.core.states import TransitionError
from consulta.core.submissions import AlreadySubmitted
from consulta.core.views import safe_next_url
from consulta.extensions import db

# PostgreSQL's "try again" errors: serialization_failure, deadlock_detected, lock_not_available.
RETRYABLE_SQLSTATES = {"40001", "40P01", "55P03"}
LOST_RACE = _l("Un'altra richiesta ha modificato gli stessi dati nello stesso momento: ricarica la pagina e, se "
               "serve, riprova.")

MESSAGES = {
    400: (_l("Richiesta non valida"), _l("La richiesta contiene dati non validi o incompleti.")),
    401: (_l("Accesso richiesto"), _l("Per continuare devi accedere.")),
    403: (_l("Accesso negato"), _l("Non hai i permessi per vedere questa pagina o compiere questa azione.")),
    404: (_l("Pagina non trovata"), _l("La pagina che cerchi non esiste o è stata spostata.")),
    405: (_l("Metodo non consentito"), _l("Questa pagina non accetta questo tipo di richiesta.")),
    409: (_l("Operazione non possibile"), _l("L'operazione è in conflitto con lo stato attuale.")),
    413: (_l("Contenuto troppo grande"), _l("Il contenuto inviato supera la dimensione massima consentita.")),
    429: (_l("Troppe richieste"), _l("Hai fatto troppi tentativi in poco tempo. Riprova fra qualche minuto.")),
    500: (_l("Errore del sistema"), _l("Si è verificato un errore imprevisto. Riprova più tardi.")),
}


def render_error(status: int, detail: str | None = None):
    title, message = MESSAGES.get(status, MESSAGES[500] if status >= 500 else MESSAGES[400])
    if request.path.startswith("/api/"):
        return jsonify(error=str(title), message=str(detail or message), status=status), status
    back = None
    if status == 409 and request.method == "POST":
        # The page the form was on, to go back and see the state as it is now (same site only).
        referrer = request.referrer or ""
        host = request.host_url
        back = safe_next_url("/" + referrer[len(host):] if referrer.startswith(host) else None, "") or None
    return render_template("errors/error.html", status=status, title=title, message=detail or message,
                           back=back), status


def _is_retryable(error: DBAPIError) -> bool:
    """A lock or serialisation conflict with another transaction (PostgreSQL), or SQLite's busy writer."""
    orig = getattr(error, "orig", None)
    return getattr(orig, "sqlstate", None) in RETRYABLE_SQLSTATES or "database is locked" in str(orig)


def register(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(400, str(_l("Il modulo è scaduto o non è valido. Ricarica la pagina e riprova.")))

    # Lost races and refused transitions: one place turns them into a 409 (403 for a refused actor),
    # after rolling back everything the request did. Views do not catch them.
    @app.errorhandler(TransitionError)
    def transition_error(error: TransitionError):
        db.session.rollback()
        return render_error(error.status, error.message)

    @app.errorhandler(IntegrityError)
    @app.errorhandler(StaleDataError)
    def lost_race(error: Exception):
        db.session.rollback()
        app.logger.info("Lost race on %s %s: %s", request.method, request.path, str(error).splitlines()[0])
        return render_error(409, str(LOST_RACE))

    @app.errorhandler(DBAPIError)
    def database_error(error: DBAPIError):
        if not _is_retryable(error):
            return unexpected_error(error)
        db.session.rollback()
        app.logger.info("Lost race on %s %s: %s", request.method, request.path, str(error).splitlines()[0])
        return render_error(409, str(LOST_RACE))

    # A second click on a creating form: nothing is stored again, the user lands on what the first made.
    @app.errorhandler(AlreadySubmitted)
    def already_submitted(error: AlreadySubmitted):
        db.session.rollback()
        flash(gettext("Era già stata inviata: non è stata registrata una seconda volta."), "info")
        return redirect(error.url)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        if isinstance(error, InternalServerError):
            db.session.rollback()
        detail = error.description if getattr(error, "_consulta_detail", False) else None
        response = render_error(error.code, detail)
        if error.code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            resp = app.make_response(response)
            resp.headers["Allow"] = ", ".join(error.valid_methods)
            return resp
        return response

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        db.session.rollback()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        if app.testing and app.config.get("PROPAGATE_TEST_ERRORS", True):
            raise error
        return render_error(500)


def abort_with(status: int, message: str):
    """Abort with an Italian message shown on the error page."""
    from werkzeug.exceptions import default_exceptions

    exc = default_exceptions[status](description=message)
    exc._consulta_detail = True
    raise exc
