"""One-time submission tokens: a double click on a creating form stores one object.

Every creating form (a proposal, a comment or a reply, an off-line contribution, a meeting) carries
a hidden random token, issued when the form is rendered. The first POST claims the token — a row of
`submission`, unique on the token — in the request's transaction, before it creates anything, and
`remember()` records what it created and where it is shown. A second POST with the same token
stores nothing: it raises `AlreadySubmitted`, which the error handler answers with a redirect to the
first one's page and the message "Era già stata inviata". Two POSTs at the same instant meet on the
unique index: the second waits for the first to commit, then finds its row.

Use: the form class inherits `OneTimeSubmission` (before `FlaskForm`), or the creating view builds
`one_time(TheForm)(...)` when an edit view shares the form; the view calls `remember(form, created, url)`
after the operation. Hand-written forms add
`<input type="hidden" name="submission_token" value="{{ submission_token() }}">`.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Any

from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from wtforms import HiddenField

from consulta.core.db import utcnow
from consulta.core.states import Conflict
from consulta.extensions import db

TOKEN_FIELD = "submission_token"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


class Submission(db.Model):
    """A creating form that was sent: its token, who sent it and what it created."""

    __tablename__ = "submission"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[int | None]
    url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlreadySubmitted(Exception):
    """This form was sent before: answer with a redirect to what the first submission created."""

    def __init__(self, url: str):
        super().__init__(url)
        self.url = url


def new_token() -> str:
    return secrets.token_urlsafe(24)


def _usable(token: Any) -> str | None:
    # A page rendered before tokens existed sends none: such a form is simply not protected.
    return token if isinstance(token, str) and _TOKEN.fullmatch(token) else None


def _replay(row: Submission | None) -> None:
    """Raise what a repeated token deserves."""
    if row is None:
        return
    if row.user_id == current_user.id and row.url:
        raise AlreadySubmitted(row.url)
    raise Conflict(gettext("Questo modulo è già stato inviato e la prima richiesta è ancora in corso: ricarica "
                           "la pagina fra qualche istante."))


def _find(token: str) -> Submission | None:
    return db.session.execute(
        select(Submission).where(Submission.token == token).execution_options(populate_existing=True)
    ).scalar_one_or_none()


def claim(token: str | None) -> Submission | None:
    """Record the token as sent, in this transaction; `AlreadySubmitted` if it was sent before."""
    token = _usable(token)
    if token is None or not current_user.is_authenticated:
        return None
    _replay(_find(token))
    row = Submission(token=token, user_id=current_user.id)
    try:
        # A savepoint: a concurrent request with the same token waits on the unique index here,
        # then fails and finds the winner's row.
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        _replay(_find(token))
        raise
    return row


class OneTimeSubmission:
    """Form mixin (put it before FlaskForm): a hidden one-time token, claimed when the form validates."""

    submission_token = HiddenField(default=new_token)

    def validate_on_submit(self, extra_validators=None) -> bool:
        if not self.is_submitted():
            return False
        token = self.submission_token.data
        if _usable(token) and current_user.is_authenticated:
            _replay(_find(token))  # a repeated click lands on the first one's page, whatever it carries now
        if not super().validate_on_submit(extra_validators):
            return False
        self._submission = claim(token)
        return True


_ONE_TIME: dict[type, type] = {}


def one_time(form_class: type) -> type:
    """`form_class` with a one-time token: for a form shared by a "new" and an "edit" view, the "new"
    view instantiates `one_time(TheForm)(...)`."""
    if form_class not in _ONE_TIME:
        _ONE_TIME[form_class] = type(f"OneTime{form_class.__name__}", (OneTimeSubmission, form_class), {})
    return _ONE_TIME[form_class]


def remember(form: Any, created: Any, url: str) -> None:
    """Record what the form's first submission created and where it is shown (call after the operation)."""
    row = getattr(form, "_submission", None)
    if row is None:
        return
    row.object_type = created.__tablename__
    row.object_id = created.id
    row.url = url
    db.session.flush()
