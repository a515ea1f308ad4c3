"""What the layout (base.html) reads on every page besides the page itself: the Ambito (its name) and, for
someone signed in, how many notifications they have not read. Each costs a statement of its own; a page
whose main query can carry them reads them along (`along`) and keeps them for the layout (`keep`) until
the end of the request (flask.g lives as long as the app context, and so as the database session).

Only for pages that change nothing (a GET): a count kept would not see a change made after it.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from flask import g, has_app_context
from sqlalchemy import Select, func, null, select
from sqlalchemy.orm import aliased

from consulta.core.permissions import is_authenticated

if TYPE_CHECKING:
    from consulta.ambito.models import Ambito


@cache
def _the_ambito():
    """The Ambito's entity and the condition that picks the first one (built once: an alias costs)."""
    from consulta.ambito.models import Ambito

    first = aliased(Ambito)
    return Ambito, Ambito.id == select(func.min(first.id)).scalar_subquery()


def along(statement: Select, user) -> Select:
    """`statement` with two more columns: the Ambito (None when there is none yet), outer-joined to its
    first table, and the unread notifications of `user` (None when anonymous)."""
    from consulta.core.notify import Notification

    ambito, first = _the_ambito()
    unread = null()
    if is_authenticated(user):
        unread = (select(func.count()).select_from(Notification)
                  .where(Notification.user_id == user.id, Notification.read_at.is_(None)).scalar_subquery())
    return statement.add_columns(ambito, unread.label("unread_notifications")).outerjoin(ambito, first)


def keep(ambito: Ambito | None, unread: int | None) -> None:
    """Keep the two values a row of an `along` statement ends with (no Ambito yet is an answer too)."""
    g.layout_ambito = ambito
    if unread is not None:
        g.layout_unread = int(unread)


def kept_ambito() -> tuple[bool, Ambito | None]:
    """(whether the page read the Ambito along, the Ambito or None)."""
    if not has_app_context() or "layout_ambito" not in g:
        return False, None
    return True, g.layout_ambito


def kept_unread() -> int | None:
    return g.get("layout_unread") if has_app_context() else None
