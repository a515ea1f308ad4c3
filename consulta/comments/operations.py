"""Comment operations: each changes objects, writes audit/notifications and flushes; the view commits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from consulta.comments import models as comments
from consulta.comments.models import Comment
from consulta.comments.queries import subject_kind
from consulta.core import audit, notify
from consulta.core.db import utcnow
from consulta.core.states import lock
from consulta.core.text import render_markdown
from consulta.extensions import db
from consulta.proposals.models import Visibility
from consulta.tavoli.models import Follow, Moderation


class CommentRefused(Exception):
    """A comment that cannot be made as asked; `status` is the HTTP answer (400 or 409)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def check_parent(subject: Any, parent: Comment | None, user: Any) -> None:
    """Replies go under a top-level comment of the same subject, one level deep only."""
    from flask_babel import gettext as _

    if parent is None:
        return
    same_subject = (parent.proposal_id == subject.id if subject_kind(subject) == "proposal"
                    else parent.objective_id == subject.id)
    if not same_subject or not parent.can_view(user):
        raise CommentRefused(_("Il commento a cui rispondi non appartiene a questa discussione."), 400)
    if parent.parent_id is not None:
        raise CommentRefused(_("Si può rispondere solo ai commenti principali, non alle risposte."), 400)
    if not parent.can_reply(user):
        raise CommentRefused(_("Non è possibile rispondere a questo commento: è stato rimosso o non è pubblico."),
                             409)


def create_comment(subject: Any, author: Any, *, body: str, stance: str | None = None,
                   parent: Comment | None = None) -> Comment:
    """A new comment (or reply) by `author`; the caller has checked `subject.can_comment(author)`."""
    check_parent(subject, parent, author)
    tavolo = subject.tavolo
    organisation = author.represented_organisation
    kind = subject_kind(subject)
    comment = Comment(
        tavolo_id=tavolo.id,
        proposal_id=subject.id if kind == "proposal" else None,
        objective_id=subject.id if kind == "objective" else None,
        parent_id=parent.id if parent is not None else None,
        author_id=author.id,
        organisation_id=organisation.id if organisation is not None else None,
        category=organisation.type if organisation is not None else "citizen",
        stance=stance or None,
        body=body,
        body_html=render_markdown(body),
        # In a pre-moderated tavolo nobody but the author and moderators sees it until approved.
        visibility=Visibility.pending if tavolo.moderation == Moderation.pre else Visibility.visible,
    )
    db.session.add(comment)
    db.session.flush()
    if comment.visibility == Visibility.visible:
        comments.count(comment, +1)
        notify_comment_published(comment)
    return comment


def notify_comment_published(comment: Comment) -> None:
    """Tell followers (and the parent's author, for a reply) about a comment now public.

    Called at creation in post-moderated tavoli; moderation calls it when it approves a pending one.
    """
    subject = comment.subject
    kind = subject_kind(subject)
    if kind == "proposal":
        follower_ids = select(Follow.user_id).where(Follow.proposal_id == subject.id)
    else:
        follower_ids = select(Follow.user_id).where(Follow.tavolo_id == subject.tavolo_id)
    data = {
        "subject_type": kind,
        "subject_id": subject.id,
        "subject_title": subject.title,
        "author_name": comment.author.display_name if comment.author is not None else None,
        "comment_id": comment.id,
    }
    parent_author_id = None
    if comment.parent is not None and comment.parent.author_id is not None:
        parent_author_id = comment.parent.author_id
        if parent_author_id != comment.author_id:
            notify.emit([parent_author_id], "comment.reply", comment, data=data)
    followers = [uid for uid in db.session.execute(follower_ids).scalars() if uid != parent_author_id]
    notify.emit(followers, "comment.created", comment, data=data, exclude=comment.author_id)


def edit_comment(comment: Comment, actor: Any, *, body: str, stance: str | None) -> Comment:
    """The author changes text and stance within the grace window; the caller checked `can_edit`."""
    changes: dict[str, Any] = {}
    if body != comment.body:
        changes["body_length"] = [len(comment.body), len(body)]
        comment.body = body
        comment.body_html = render_markdown(body)
    stance = stance or None
    if stance != comment.stance:
        changes["stance"] = [comment.stance, stance]
        comment.stance = stance
    audit.record(actor, "comment.edit", comment, changes)
    db.session.flush()
    return comment


def delete_comment(comment: Comment, actor: Any) -> Comment:
    """The author removes a comment: the thread shows a placeholder and keeps the replies.

    The row is locked first: of two removals (or a removal and a moderator's act) at once, the
    second sees the first's outcome, and the counters move once."""
    lock(comment, watch="deleted_at")
    was_counted = comments.is_counted(comment.visibility, comment.deleted_at)
    comment.deleted_at = utcnow()
    if was_counted:
        comments.count(comment, -1)
    audit.record(actor, "comment.delete", comment, {"deleted": [False, True]})
    db.session.flush()
    return comment
