"""Comment threads shown on proposal and objective pages.

Contract used by the proposal and objective pages:
    thread = comment_thread(subject, current_user, request.args)   # subject: Proposal or Objective
    {% include "comments/_thread.html" %}                          # reads `thread` and `subject`

A thread is shown a page at a time: COMMENTS_PER_PAGE top-level comments, oldest
first, each with its replies; "Commenti successivi" leads on by keyset (the `dopo`
cursor, consulta.core.keyset), so a late page costs what the first costs. A page
costs a fixed number of queries whatever the thread's size: one for its comments
(the page cut on the index, replies and authors with it), one for the stance
counts (GROUP BY), and at most one for the tavolo's facilitators.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import abort, current_app, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload
from werkzeug.routing import BuildError

from consulta.core import keyset
from consulta.core.errors import abort_with
from consulta.core.permissions import facilitates, is_authenticated
from consulta.core.views import require
from consulta.extensions import db

# Other domains' views import this module while the models are still loading,
# so the models are imported inside the functions (no import cycle).

BODY_MAX_LENGTH = 10_000


# --------------------------------------------------------------------------- subjects

def subject_kind(subject: Any) -> str:
    """"proposal" or "objective": the two things people comment and vote on."""
    return "proposal" if subject.__tablename__ == "proposal" else "objective"


def subject_column(model: Any, subject: Any):
    """The filter `model.<kind>_id == subject.id` for Comment or Vote."""
    if subject_kind(subject) == "proposal":
        return model.proposal_id == subject.id
    return model.objective_id == subject.id


def subject_url(subject: Any) -> str:
    """The public page of a proposal or objective (where the thread and panel are shown)."""
    try:
        if subject_kind(subject) == "proposal":
            return url_for("proposals.show", proposal_id=subject.id)
        return url_for("tavoli.objective", slug=subject.tavolo.slug, objective_id=subject.id)
    except BuildError:
        # The subject pages are built by other domains; literal paths keep redirects working meanwhile.
        if subject_kind(subject) == "proposal":
            return f"/proposte/{subject.id}/"
        return f"/tavoli/{subject.tavolo.slug}/obiettivi/{subject.id}/"


# --------------------------------------------------------------------------- permissions explained

def subject_is_open(subject: Any) -> bool:
    """The subject itself (not the tavolo, not the user) still takes comments and votes."""
    if subject_kind(subject) == "proposal":
        return subject.is_open_for_discussion()
    return subject.status == "published"


def comment_refusal(subject: Any, user: Any) -> tuple[int, str] | None:
    """Why `user` may not comment on `subject` (HTTP status, Italian message), or None if they may.

    The decision is `subject.can_comment(user)`; this only explains a refusal, saying first what
    holds for everyone (phase, state of the subject), then what concerns this user. 401 means "log in".
    """
    from consulta.tavoli.models import PHASE_LABELS

    if subject.can_comment(user):
        return None
    tavolo = subject.tavolo
    if not tavolo.phase_allows("comment"):
        return 409, _("Il tavolo è nella fase «%(phase)s»: i commenti sono chiusi.",
                      phase=PHASE_LABELS[tavolo.phase])
    if not subject_is_open(subject):
        if subject_kind(subject) == "proposal":
            return 409, _("Questa proposta non accetta commenti nel suo stato attuale.")
        return 409, _("Questo obiettivo non accetta più commenti.")
    if not is_authenticated(user):
        return 401, _("Accedi per partecipare alla discussione.")
    if user.email_verified_at is None:
        return 403, _("Per commentare devi prima verificare il tuo indirizzo e-mail.")
    if user.blocked_at is not None:
        return 403, _("Il tuo account è sospeso: puoi leggere ma non commentare.")
    return 403, _("Non puoi commentare qui.")


def refuse(refusal: tuple[int, str] | None) -> None:
    """Answer a refused action: anonymous users go to login, others get the status and the reason."""
    if refusal is None:
        abort(403)
    status, message = refusal
    if status == 401:
        require(False)
    abort_with(status, message)


# --------------------------------------------------------------------------- the thread

@dataclass
class CommentNode:
    """A top-level comment and its replies (one level only)."""

    comment: Any
    replies: list[Any] = field(default_factory=list)


@dataclass
class CommentThread:
    subject: Any
    comments: list[CommentNode] = field(default_factory=list)
    # Visible, not deleted comments: what the public count and the stance badges show.
    total: int = 0
    stance_counts: dict[str, int] = field(default_factory=dict)
    can_comment: bool = False
    refusal: str | None = None
    refusal_status: int | None = None
    post_url: str = ""
    pre_moderated: bool = False
    organisation: Any = None
    # Comments the viewer has already flagged (the "Segnala" link becomes a note).
    flagged_ids: set[int] = field(default_factory=set)
    # The `dopo` value of the next page of comments, and whether this page is not the first.
    next_cursor: str | None = None
    later_page: bool = False

    @property
    def stances(self) -> list[tuple[str, str, int]]:
        """(stance, label, count) in a fixed order, for the summary badges."""
        from consulta.comments.models import Stance

        return [(s.value, stance_count_label(s.value, self.stance_counts.get(s.value, 0)),
                 self.stance_counts.get(s.value, 0)) for s in Stance]


def stance_count_label(stance: str, count: int) -> str:
    if stance == "in_favour":
        return ngettext("%(num)d a favore", "%(num)d a favore", count)
    if stance == "neutral":
        return ngettext("%(num)d neutrale", "%(num)d neutrali", count)
    return ngettext("%(num)d contrario", "%(num)d contrari", count)


def stance_counts(subject: Any) -> dict[str, int]:
    """Counts of public comments per stance, computed in SQL; key None counts those without a stance."""
    from consulta.comments.models import Comment
    from consulta.proposals.models import Visibility

    rows = db.session.execute(
        select(Comment.stance, func.count(Comment.id))
        .where(subject_column(Comment, subject),
               Comment.visibility == Visibility.visible,
               Comment.deleted_at.is_(None))
        .group_by(Comment.stance)
    ).all()
    return {stance: count for stance, count in rows}


def comment_post_url(subject: Any) -> str:
    if subject_kind(subject) == "proposal":
        return url_for("comments.comment_on_proposal", proposal_id=subject.id)
    return url_for("comments.comment_on_objective", objective_id=subject.id)


CURSOR = "comments"


def per_page() -> int:
    return int(current_app.config["COMMENTS_PER_PAGE"])


def _visible_to(user, subject) -> list:
    """Comments awaiting moderation are seen by their author and the moderators only."""
    from consulta.comments.models import Comment
    from consulta.proposals.models import Visibility

    if facilitates(user, subject.tavolo):
        return []
    if is_authenticated(user):
        return [or_(Comment.visibility != Visibility.pending, Comment.author_id == user.id)]
    return [Comment.visibility != Visibility.pending]


def comment_url(comment) -> str:
    """The page of the comment's subject where the comment is shown, at the comment: the thread's first
    page, or a later one that starts with the comment's top-level comment."""
    from consulta.comments.models import Comment
    from consulta.proposals.models import Visibility

    subject = comment.subject
    top = comment.parent if comment.parent_id is not None else comment
    keys = (Comment.created_at, Comment.id)
    before = db.session.execute(
        select(*keys).where(subject_column(Comment, subject), Comment.parent_id.is_(None),
                            Comment.visibility != Visibility.pending,
                            keyset.after(keys, (top.created_at, top.id)))
        .order_by(Comment.created_at.desc(), Comment.id.desc()).limit(per_page())
    ).all()
    url = subject_url(subject)
    if len(before) == per_page():
        url += "?" + urlencode({keyset.PARAM: keyset.encode(CURSOR, 2, before[0])})
    return f"{url}#commento-{comment.id}"


def comment_thread(subject, user, args=None) -> CommentThread:
    from consulta.comments.models import Comment

    cursor = keyset.read(args or {}, CURSOR, (datetime, int),
                         _("Il collegamento ai commenti successivi non è valido: ricomincia dai primi."))
    size = per_page()
    # The page's top-level comments (one more, to know whether a next page exists), cut on the index.
    tops = (select(Comment.id)
            .where(subject_column(Comment, subject), Comment.parent_id.is_(None), *_visible_to(user, subject))
            .order_by(Comment.created_at, Comment.id).limit(size + 1))
    if cursor is not None:
        tops = tops.where(keyset.after((Comment.created_at, Comment.id), cursor.values, descending=False))
    tops = tops.subquery()
    comments = db.session.execute(
        select(Comment)
        .where(subject_column(Comment, subject), *_visible_to(user, subject),
               or_(Comment.id.in_(select(tops.c.id)), Comment.parent_id.in_(select(tops.c.id))))
        .options(joinedload(Comment.author), joinedload(Comment.organisation))
        .order_by(Comment.created_at, Comment.id)
    ).unique().scalars().all()

    nodes: dict[int, CommentNode] = {}
    replies: list[Comment] = []
    for comment in comments:
        if comment.parent_id is None:
            nodes[comment.id] = CommentNode(comment)
        else:
            replies.append(comment)
    for reply in replies:
        node = nodes.get(reply.parent_id)
        if node is not None:  # a reply under a parent this user may not see stays out too
            node.replies.append(reply)
    shown = list(nodes.values())
    next_cursor = None
    if len(shown) > size:
        shown = shown[:size]
        last = shown[-1].comment
        next_cursor = keyset.encode(CURSOR, (cursor.page if cursor else 1) + 1, [last.created_at, last.id])
    comments = [c for node in shown for c in (node.comment, *node.replies)]

    counts = stance_counts(subject)
    refusal = comment_refusal(subject, user)
    flagged_ids: set[int] = set()
    if is_authenticated(user) and comments:
        from consulta.moderation.queries import flagged_comment_ids

        flagged_ids = flagged_comment_ids(user, [c.id for c in comments])
    can_comment = refusal is None
    return CommentThread(
        subject=subject,
        comments=shown,
        total=sum(counts.values()),
        stance_counts={k: v for k, v in counts.items() if k is not None},
        can_comment=can_comment,
        refusal=refusal[1] if refusal else None,
        refusal_status=refusal[0] if refusal else None,
        post_url=comment_post_url(subject),
        pre_moderated=subject.tavolo.moderation == "pre",
        organisation=user.represented_organisation if can_comment else None,
        flagged_ids=flagged_ids,
        next_cursor=next_cursor,
        later_page=cursor is not None,
    )
