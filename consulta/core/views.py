"""Helpers every view uses: load, check, answer."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import abort, request
from flask_login import current_user
from sqlalchemy import select

from consulta.core.db import DB_INT_MAX
from consulta.extensions import db, login_manager


def key_or_404(ident: Any) -> int:
    """`ident` (from the URL) as a primary key, or answer 404."""
    try:
        key = int(ident)
    except (TypeError, ValueError):
        abort(404)
    if key <= 0 or key > DB_INT_MAX:  # beyond the INTEGER column: no such row (PostgreSQL would refuse it)
        abort(404)
    return key


def load_or_404(model: type, ident: Any, *options: Any):
    """Load one row by primary key with explicit loader options, or answer 404."""
    key = key_or_404(ident)
    obj = db.session.execute(select(model).where(model.id == key).options(*options)).unique().scalar_one_or_none()
    if obj is None:
        abort(404)
    return obj


def require(condition: bool) -> None:
    """Refuse the request unless `condition` holds: anonymous users go to login, others get 403."""
    if condition:
        return
    if not current_user.is_authenticated:
        abort(login_manager.unauthorized())
    abort(403)


def safe_next_url(target: str | None, default: str) -> str:
    """Only same-site relative paths are allowed as a `next` redirect."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def wants_json() -> bool:
    return request.path.startswith("/api/")
