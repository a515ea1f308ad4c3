"""User text stored as sanitised HTML beside its Markdown source, and `flask rerender-text`.

Every `*_html` column below is written by core.text.render_markdown() when its source is written,
and pages mark it safe without parsing it again. When the sanitising policy (or the Markdown
configuration) changes, `flask rerender-text` renders every source again and rewrites the HTML
that differs, in batches, each committed; running it twice changes nothing the second time.

Approved minutes and their decisions are left as they are: the database refuses any change to
them, so their pages sanitise that HTML on the way out (core.text.record_html).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, bindparam, select, true, update

from consulta.comments.models import Comment
from consulta.core.text import render_markdown
from consulta.extensions import db
from consulta.meetings.models import Decision, Meeting, Minutes, MinutesStatus
from consulta.plan.record import PlanAction, PlanArea, PlanObjective, ProgressUpdate
from consulta.proposals.models import Proposal
from consulta.tavoli.models import Objective, Tavolo


@dataclass(frozen=True)
class StoredText:
    source: Any  # the Markdown column, e.g. Comment.body
    html: Any  # the HTML column rendered from it, e.g. Comment.body_html
    # Rows the database refuses to change (None: all rows can be rewritten).
    frozen: Callable[[], ColumnElement[bool]] | None = None

    @property
    def name(self) -> str:
        return f"{self.html.class_.__tablename__}.{self.html.key}"

    def rendered(self, source: str | None) -> str | None:
        """The HTML the current policy makes of `source` (an absent source has no HTML)."""
        return None if source is None else render_markdown(source)


def _approved_minutes() -> ColumnElement[bool]:
    return Minutes.status == MinutesStatus.approved


def _decision_of_approved_minutes() -> ColumnElement[bool]:
    return Decision.minutes_id.in_(select(Minutes.id).where(_approved_minutes()))


STORED_TEXT: tuple[StoredText, ...] = (
    StoredText(Comment.body, Comment.body_html),
    StoredText(Proposal.body, Proposal.body_html),
    StoredText(Proposal.answer, Proposal.answer_html),
    StoredText(Tavolo.description, Tavolo.description_html),
    StoredText(Objective.body, Objective.body_html),
    StoredText(Meeting.agenda, Meeting.agenda_html),
    StoredText(Minutes.text, Minutes.text_html, frozen=_approved_minutes),
    StoredText(Decision.motivation, Decision.motivation_html, frozen=_decision_of_approved_minutes),
    StoredText(PlanArea.description, PlanArea.description_html),
    StoredText(PlanObjective.description, PlanObjective.description_html),
    StoredText(PlanAction.description, PlanAction.description_html),
    StoredText(ProgressUpdate.text, ProgressUpdate.text_html),
)


def rerender(stored: StoredText, *, batch_size: int = 500) -> int:
    """Render one column again from its source, committing each batch; returns the rows rewritten."""
    model = stored.html.class_
    table = model.__table__
    key = table.c.id
    html_column = stored.html.property.columns[0]
    # A rewrite of derived HTML is not an edit: columns stamped on update keep their value.
    keep = {column.name: column for column in table.c if column.onupdate is not None}
    statement = (update(table).where(key == bindparam("row_id"))
                 .values({html_column.name: bindparam("new_html"), **keep}))
    writable = ~stored.frozen() if stored.frozen is not None else true()
    rewritten, last_id = 0, None
    while True:
        query = select(model.id, stored.source, stored.html).where(writable).order_by(model.id).limit(batch_size)
        if last_id is not None:
            query = query.where(model.id > last_id)
        rows = db.session.execute(query).all()
        if not rows:
            return rewritten
        last_id = rows[-1][0]
        changes = [{"row_id": row_id, "new_html": new_html} for row_id, source, html in rows
                   if (new_html := stored.rendered(source)) != html]
        if changes:
            db.session.execute(statement, changes)
            rewritten += len(changes)
        db.session.commit()


def rerender_all(*, batch_size: int = 500) -> dict[str, int]:
    """Every stored HTML column under the current policy: {"comment.body_html": rows rewritten, ...}."""
    return {stored.name: rerender(stored, batch_size=batch_size) for stored in STORED_TEXT}
