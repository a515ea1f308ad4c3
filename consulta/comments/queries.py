"""Comment threads shown on proposal and objective pages.

Contract used by the proposal and objective pages:
    thread = comment_thread(subject, current_user, request.args.get(AFTER))   # subject: Proposal or Objective
    {% include "comments/_thread.html" %}               # reads `thread` and `subject`

A page shows the discussion in chunks: COMMENTS_PER_CHUNK top-level comments with all their
replies, then a "Mostra altri commenti" link to the next chunk (`?commenti_dopo=<id>`, a key
on the last top-level comment shown: page N costs what page 1 costs). Every comment has an
anchor (`#commento-<id>`) and a permalink, /commenti/<id>, that leads to the chunk showing it.

A chunk costs a fixed number of queries whatever the thread's size: the top-level comments
(authors and organisations joined), their replies, the stance counts (GROUP BY), the viewer's
flags, at most one for the tavolo's facilitators, and on a later chunk its key and the link back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from flask import abort, current_app, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.routing import BuildError

from consulta.core.errors import abort_with
from consulta.core.input_guard import parse_id
from consulta.core.permissions import facilitates, is_authenticated
from consulta.core.views import require
from consulta.extensions import db

# Other domains' views import this module while the models are still loading,
# so the models are imported inside the functions (no import cycle).

BODY_MAX_LENGTH = 10_000
# The query parameter of a later chunk: the id of the top-level comment the chunk follows.
AFTER = "commenti_dopo"


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
    # Links to the chunks before and after this one (None at either end of the discussion).
    previous_url: str | None = None
    next_url: str | None = None

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


def comments_per_chunk() -> int:
    return int(current_app.config.get("COMMENTS_PER_CHUNK", 50))


def _seen_by(stmt, subject: Any, user: Any):
    """`stmt` restricted to the comments `user` may see: comments awaiting moderation are seen by their
    author and the tavolo's facilitators only."""
    from consulta.comments.models import Comment
    from consulta.proposals.models import Visibility

    if facilitates(user, subject.tavolo):
        return stmt
    if is_authenticated(user):
        return stmt.where(or_(Comment.visibility != Visibility.pending, Comment.author_id == user.id))
    return stmt.where(Comment.visibility != Visibility.pending)


def _top_level(subject: Any, user: Any, *columns):
    from consulta.comments.models import Comment

    return _seen_by(select(*columns).where(subject_column(Comment, subject), Comment.parent_id.is_(None)),
                    subject, user)


def _before(comment: Any):
    """Comments earlier in the thread's order (created_at, id) than `comment`."""
    from consulta.comments.models import Comment

    return or_(Comment.created_at < comment.created_at,
               and_(Comment.created_at == comment.created_at, Comment.id < comment.id))


def _after(comment: Any):
    from consulta.comments.models import Comment

    return or_(Comment.created_at > comment.created_at,
               and_(Comment.created_at == comment.created_at, Comment.id > comment.id))


def chunk_url(subject: Any, after_id: int | None, anchor: str = "commenti") -> str:
    """The subject page at the chunk that follows top-level comment `after_id` (None: the first chunk)."""
    query = f"?{AFTER}={after_id}" if after_id is not None else ""
    return f"{subject_url(subject)}{query}#{anchor}"


def comment_location(comment: Any, user: Any) -> str:
    """Where `user` reads `comment`: the subject page, or the chunk that begins with its thread, at its anchor."""
    from consulta.comments.models import Comment

    top = comment.parent if comment.parent_id is not None else comment
    size = comments_per_chunk()
    earlier = db.session.execute(
        _top_level(comment.subject, user, Comment.id).where(_before(top))
        .order_by(Comment.created_at.desc(), Comment.id.desc()).limit(size)
    ).scalars().all()
    return chunk_url(comment.subject, earlier[0] if len(earlier) == size else None, f"commento-{comment.id}")


def _chunk_key(subject: Any, user: Any, after: str | None) -> Any:
    """The top-level comment a later chunk follows; 404 unless it is one of this subject's that `user` sees."""
    from consulta.comments.models import Comment

    if after is None:
        return None
    key_id = parse_id(after)
    key = db.session.execute(
        _top_level(subject, user, Comment.id, Comment.created_at).where(Comment.id == key_id)
    ).first() if key_id is not None else None
    if key is None:
        abort_with(404, _("Il commento da cui riprendere la discussione non esiste."))
    return key


@cache  # built once (the mappers are configured by then): loader options cost more to build than to run
def _who_wrote():
    """A comment's author and organisation as the thread shows them: their names, not their comuni."""
    from consulta.accounts.models import User
    from consulta.comments.models import Comment
    from consulta.organisations.models import Organisation

    return (joinedload(Comment.author).lazyload(User.comune),
            joinedload(Comment.organisation).lazyload(Organisation.comune))


def comment_thread(subject, user, after: str | None = None) -> CommentThread:
    """The chunk of the discussion after top-level comment `after` (an id from the query string; None:
    the first chunk), as `user` sees it."""
    from consulta.comments.models import Comment

    size = comments_per_chunk()
    key = _chunk_key(subject, user, after)
    in_order = (Comment.created_at, Comment.id)
    stmt = (_top_level(subject, user, Comment)
            .options(*_who_wrote())
            .order_by(*in_order).limit(size + 1))
    if key is not None:
        stmt = stmt.where(_after(key))
    tops = db.session.execute(stmt).unique().scalars().all()
    following = tops[size] if len(tops) > size else None
    tops = tops[:size]
    nodes = {comment.id: CommentNode(comment) for comment in tops}
    replies: list[Comment] = []
    if nodes:
        replies = db.session.execute(
            _seen_by(select(Comment).where(Comment.parent_id.in_(list(nodes))), subject, user)
            .options(*_who_wrote())
            .order_by(*in_order)
        ).unique().scalars().all()
    for reply in replies:
        nodes[reply.parent_id].replies.append(reply)

    previous_url = None
    if key is not None:
        # The chunk before this one: the `size` top-level comments before its first, after the one before them.
        earlier = db.session.execute(
            _top_level(subject, user, Comment.id).where(~_after(key))
            .order_by(Comment.created_at.desc(), Comment.id.desc()).limit(size + 1)
        ).scalars().all()
        previous_url = chunk_url(subject, earlier[size] if len(earlier) > size else None,
                                 f"commento-{earlier[0]}")

    counts = stance_counts(subject)
    refusal = comment_refusal(subject, user)
    flagged_ids: set[int] = set()
    shown = [*tops, *replies]
    relation = "proposal" if subject.__tablename__ == "proposal" else "objective"
    for comment in shown:  # the thread asks each what the user may do: its subject and tavolo are at hand
        set_committed_value(comment, relation, subject)
        set_committed_value(comment, "tavolo", subject.tavolo)
    if is_authenticated(user) and shown:
        from consulta.moderation.queries import flagged_comment_ids

        flagged_ids = flagged_comment_ids(user, [c.id for c in shown])
    can_comment = refusal is None
    return CommentThread(
        subject=subject,
        comments=list(nodes.values()),
        total=sum(counts.values()),
        stance_counts={k: v for k, v in counts.items() if k is not None},
        can_comment=can_comment,
        refusal=refusal[1] if refusal else None,
        refusal_status=refusal[0] if refusal else None,
        post_url=comment_post_url(subject),
        pre_moderated=subject.tavolo.moderation == "pre",
        organisation=user.represented_organisation if can_comment else None,
        flagged_ids=flagged_ids,
        previous_url=previous_url,
        next_url=chunk_url(subject, tops[-1].id, f"commento-{following.id}") if following is not None else None,
    )
