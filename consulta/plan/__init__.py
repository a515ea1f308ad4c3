from flask import Blueprint

bp = Blueprint("plan", __name__)
# The record's editing pages (/facilitazione/piano/…) and open data (/dati/piano/…) live
# outside /piano: a second blueprint without prefix, registered together with this one.
record_bp = Blueprint("plan_record", __name__)


@bp.record_once
def _register_record_blueprint(state) -> None:
    state.app.register_blueprint(record_bp)


# The public views first: they import the tavoli package, which the record views' forms need.
from consulta.plan import views  # noqa: E402,F401

# isort: split
from consulta.plan import cli, record_views  # noqa: E402,F401
