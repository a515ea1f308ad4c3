"""Italian error pages (JSON under /api) for every status a user can meet."""

from __future__ import annotations

from flask import jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from consulta.core.states import TransitionError
from consulta.extensions import db

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
    return render_template("errors/error.html", status=status, title=title, message=detail or message), status


def register(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(400, str(_l("Il modulo è scaduto o non è valido. Ricarica la pagina e riprova.")))

    @app.errorhandler(TransitionError)
    def transition_error(error: TransitionError):
        db.session.rollback()
        return render_error(error.status, error.message)

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
