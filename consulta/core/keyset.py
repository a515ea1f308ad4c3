"""Keyset pagination: "next page" links that say where the page ended, so that page N costs what
page 1 costs.

A list ordered by keys (k1, …, kn) descending (or ascending), the last one unique (the id), shows as its
next page the rows after the last one shown: `(k1, …, kn) < (v1, …, vn)`, which an index on
(…, k1, …, kn) answers by reading one page of it however deep it is, where OFFSET reads and
throws away every row before. The position travels in the link's `dopo` parameter with the page's
number, signed (itsdangerous), so it is opaque and cannot be forged into another query: a cursor
that is not ours, or not for this list and order, is refused with a 400.

Page numbers stay (the pager), read with OFFSET on the narrow index; `Page` is the pagination the
pager macro reads, with the cursor of its next page. `paginate()` does both for a list of one model
(as db.paginate does, plus the cursor); lists that cut their pages themselves (the tavolo's
proposals, comment threads) use `read()`, `after()` and `encode()`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import abort, current_app, request
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import ColumnElement, func, literal, select, tuple_

from consulta.core.db import DB_INT_MAX
from consulta.core.errors import abort_with
from consulta.core.input_guard import page_number
from consulta.extensions import db

PARAM = "dopo"
INVALID = _l("Il collegamento alla pagina successiva non è valido: ricomincia dalla prima pagina.")


@dataclass(frozen=True)
class Cursor:
    page: int
    values: tuple[Any, ...]


def _serializer(name: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=f"consulta.keyset.{name}")


def _plain(value: Any) -> Any:
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value


def encode(name: str, page: int, values: Sequence[Any]) -> str:
    """The `dopo` value for page `page` of the list `name`, starting after a row with these keys."""
    return _serializer(name).dumps([page, *(_plain(v) for v in values)])


def _typed(value: Any, kind: type) -> Any:
    if kind is int:
        if type(value) is not int or not 0 <= value <= DB_INT_MAX:
            raise ValueError(value)
        return value
    if kind is datetime:
        if not isinstance(value, str):
            raise ValueError(value)
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError(value)
        return moment
    raise TypeError(kind)


def decode(name: str, token: str, kinds: Sequence[type]) -> Cursor | None:
    """The cursor in `token` for the list `name` whose keys have these types, or None if it is not one."""
    try:
        data = _serializer(name).loads(token)
        if not isinstance(data, list) or len(data) != len(kinds) + 1:
            return None
        page = _typed(data[0], int)
        if page < 2:
            return None
        return Cursor(page, tuple(_typed(value, kind) for value, kind in zip(data[1:], kinds, strict=True)))
    except (BadData, ValueError, TypeError):
        return None


def read(args, name: str, kinds: Sequence[type], message: str | None = None) -> Cursor | None:
    """The cursor the `dopo` parameter of `args` carries for the list `name`, None without one; 400 if it
    is not a cursor of this list."""
    raw = args.get(PARAM)
    if raw is None:
        return None
    cursor = decode(name, raw.strip(), kinds)
    if cursor is None:
        abort_with(400, str(message or INVALID))
    return cursor


def after(keys: Sequence[Any], values: Sequence[Any], *, descending: bool = True) -> ColumnElement[bool]:
    """The rows after `values` in the order of `keys` (all descending, or all ascending)."""
    row = tuple_(*(literal(v, type_=k.type) for k, v in zip(keys, values, strict=True)))
    return tuple_(*keys) < row if descending else tuple_(*keys) > row


class Page(Pagination):
    """The pagination the pager macro reads, for a page of rows the list has fetched itself, with the
    `dopo` value of its next page (`next_cursor`) when there is one."""

    def __init__(self, *, page: int, per_page: int, items: list[Any], total: int):
        super().__init__(page=page, per_page=per_page, max_per_page=None, error_out=False, items=items, total=total)
        self.next_cursor: str | None = None

    def follow(self, name: str, values: Sequence[Any]) -> None:
        """Offer the next page, after the row whose keys are `values` (the last shown)."""
        if self.has_next:
            self.next_cursor = encode(name, self.page + 1, values)

    def _query_items(self) -> list[Any]:
        return self._query_args["items"]

    def _query_count(self) -> int:
        return self._query_args["total"]


def paginate(statement: Any, keys: Sequence[Any], *, name: str, per_page: int, page_param: str = "pagina",
             error_out: bool = True) -> Page:
    """A page of `statement` (rows of one model) in the descending order of `keys`, the last unique: by
    its number (`page_param`, OFFSET), or after the cursor of a "next page" link. As db.paginate, it
    counts the rows for the pager (one statement), reads the page (another), and answers 404 for an
    empty page past the first unless `error_out` is False."""
    # The Python type of each key (through a TypeDecorator such as UTCDateTime, to what it stores).
    cursor = read(request.args, name, tuple(getattr(key.type, "impl", key.type).python_type for key in keys))
    page = cursor.page if cursor is not None else page_number(page_param)
    cut = statement.order_by(None).order_by(*(key.desc() for key in keys)).limit(per_page)
    cut = cut.where(after(keys, cursor.values)) if cursor is not None else cut.offset((page - 1) * per_page)
    items = list(db.session.execute(cut).unique().scalars())
    if not items and page != 1 and error_out:
        abort(404)
    total = db.session.execute(select(func.count()).select_from(statement.order_by(None).subquery())).scalar_one()
    result = Page(page=page, per_page=per_page, items=items, total=total)
    if len(items) == per_page:
        result.follow(name, [getattr(items[-1], key.key) for key in keys])
    return result
