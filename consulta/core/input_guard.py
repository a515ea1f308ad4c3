"""Input at the edge: what every request must satisfy before any view runs.

- No NUL or other control character in the path, the query string or the form values
  (tab, CR and LF are allowed in form values, where multi-line text lives): 400.
- URL integers (`<int:…>`) fit the database's INTEGER column: 1 … 2³¹−1; anything else
  matches no route, hence 404 (negative numbers never matched).
- Page numbers come from `page_number()`: an integer in 1 … 2³¹−1, else 400.
- A body over MAX_CONTENT_LENGTH is a 413 (Werkzeug raises it while the form is parsed here).
"""

from __future__ import annotations

import re

from flask import request
from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter

from consulta.core.db import DB_INT_MAX
from consulta.core.errors import abort_with

# C0 controls and DEL; form values may keep \t, \n and \r.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class DatabaseIntConverter(IntegerConverter):
    """`<int:…>` bounded to a positive database INTEGER: larger or zero ids match no route (404)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", DB_INT_MAX)
        super().__init__(map, *args, **kwargs)

    def to_python(self, value: str):
        if len(value) > 10:  # cheap refusal of 20-digit numbers before int()
            from werkzeug.routing import ValidationError

            raise ValidationError()
        return super().to_python(value)


def _refuse() -> None:
    abort_with(400, str(_l("La richiesta contiene caratteri di controllo non ammessi.")))


def check_request() -> None:
    if _CONTROL.search(request.path):
        _refuse()
    for key, value in request.args.items(multi=True):
        if _CONTROL.search(key) or _CONTROL.search(value):
            _refuse()
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        # Parsing the form here also turns a body over MAX_CONTENT_LENGTH into a 413.
        for key, value in request.form.items(multi=True):
            if _CONTROL.search(key) or _CONTROL_IN_TEXT.search(value):
                _refuse()


def parse_id(value) -> int | None:
    """A row id sent by a client (form value, query parameter): an int in 1 … 2³¹−1, else None.

    Every id that reaches a query goes through this (or the `<int:…>` converter): PostgreSQL refuses
    an INTEGER comparison with a larger number, SQLite cannot even bind one beyond 2⁶³."""
    raw = str(value).strip() if value is not None else ""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10:
        return None
    number = int(raw)
    return number if 1 <= number <= DB_INT_MAX else None


def page_number(name: str = "pagina") -> int:
    """The page a listing shows: the `name` query parameter, an integer in 1 … 2³¹−1 (1 when absent), else 400.

    Every paginated listing reads its page through this function (and `paginate`)."""
    raw = (request.args.get(name) or "1").strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10 or not 1 <= int(raw) <= DB_INT_MAX:
        abort_with(400, str(_l("Numero di pagina non valido.")))
    return int(raw)


def paginate(statement, *, per_page: int, name: str = "page", **kwargs):
    """db.paginate with the page read by `page_number` and a fixed page size (never from the query string)."""
    from consulta.extensions import db

    kwargs.setdefault("max_per_page", per_page)
    return db.paginate(statement, page=page_number(name), per_page=per_page, **kwargs)


def register(app) -> None:
    app.before_request_funcs.setdefault(None, []).insert(0, check_request)
