"""Small helpers of the plan tests."""

from __future__ import annotations

import html

from sqlalchemy import func, select

from consulta.extensions import db


def text(response) -> str:
    """The body as the user reads it: entities decoded, no-break spaces (1.000,00 €) as spaces."""
    body = response if isinstance(response, str) else response.get_data(as_text=True)
    return html.unescape(body).replace("\xa0", " ").replace("\u202f", " ")


def count(model, *where) -> int:
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def section(page: str, anchor: str) -> str:
    """The part of a page from the element with id=`anchor` to the end of its <section>."""
    return page.split(f'id="{anchor}"', 1)[1].split("</section>", 1)[0]
