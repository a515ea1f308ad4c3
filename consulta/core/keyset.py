"""Keyset pagination: "next page" links that say where the page ended, so that page N costs what
page 1 costs.

A list ordered by keys (k1, …, kn) descending (or ascending), the last one unique (the id), shows as its
next page the rows after the last one shown: `(k1, …, kn) < (v1, …, vn)`, which an index on
(…, k1, …, kn) answers by reading one page of it however deep it is, where OFFSET reads and
throws away every row before. The position travels in the link's `dopo` parameter with the page's
number, signed (itsdangerous), so it is opaque and cannot be forged into another query: a cursor
that is not ours, or not for this list and order, is refused with a 400.

Page numbers stay (the pager), read with OFFSET on the narrow index; `Page` is the pagination the
pager macro reads, for rows a list has fetched itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from flask_sqlalchemy.pagination import Pagination
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import ColumnElement, literal, tuple_

from consulta.core.db import DB_INT_MAX

PARAM = "dopo"


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


def after(keys: Sequence[Any], values: Sequence[Any], *, descending: bool = True) -> ColumnElement[bool]:
    """The rows after `values` in the order of `keys` (all descending, or all ascending)."""
    row = tuple_(*(literal(v, type_=k.type) for k, v in zip(keys, values, strict=True)))
    return tuple_(*keys) < row if descending else tuple_(*keys) > row


class Page(Pagination):
    """The pagination the pager macro reads, for a page of rows the list has fetched itself."""

    def __init__(self, *, page: int, per_page: int, items: list[Any], total: int):
        super().__init__(page=page, per_page=per_page, max_per_page=None, error_out=False, items=items, total=total)

    def _query_items(self) -> list[Any]:
        return self._query_args["items"]

    def _query_count(self) -> int:
        return self._query_args["total"]
