"""Routes of the comments domain: write, reply, edit and delete comments.

The thread itself is rendered by the proposal and objective pages (see queries.py).
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from consulta.comments import bp, operations
from consulta.comments.forms import CommentEditForm, CommentForm
from consulta.comments.models import Comment
from consulta.comments.queries import comment_refusal, comment_url, refuse, subject_url
from consulta.core.errors import abort_with
from consulta.core.submissions import remember
from consulta.core.views import load_or_404, require
from consulta.extensions import db
from consulta.proposals.models import Proposal, Visibility
from consulta.tavoli.models import Objective


@bp.post("/proposte/<int:proposal_id>/commenti")
def comment_on_proposal(proposal_id: int):
    proposal = load_or_404(Proposal, proposal_id, joinedload(Proposal.tavolo))
    return _post_comment(proposal)


@bp.post("/obiettivi/<int:objective_id>/commenti")
def comment_on_objective(objective_id: int):
    objective = load_or_404(Objective, objective_id)
    return _post_comment(objective)


def _post_comment(subject: Any):
    if not subject.can_view(current_user):
        abort(404)
    if not subject.can_comment(current_user):
        refuse(comment_refusal(subject, current_user))
    form = CommentForm()
    if not form.validate_on_submit():
        return _form_page(subject, form, 400, parent=_shown_parent(subject, form))

    parent = None
    if form.parent_value is not None:
        parent = db.session.get(Comment, form.parent_value)
        if parent is None:
            return _parent_refused(subject, form, _("Il commento a cui rispondi non esiste."), 400)
    try:
        comment = operations.create_comment(subject, current_user, body=form.body.data,
                                            stance=form.stance_value, parent=parent)
    except operations.CommentRefused as refused:
        db.session.rollback()
        return _parent_refused(subject, form, refused.message, refused.status)
    remember(form, comment, comment_url(comment))
    db.session.commit()
    if comment.visibility == Visibility.pending:
        flash(_("Il tuo commento è in attesa di moderazione: sarà visibile a tutti dopo l'approvazione."), "info")
    elif parent is not None:
        flash(_("Risposta pubblicata."), "success")
    else:
        flash(_("Commento pubblicato."), "success")
    return redirect(comment_url(comment))


def _parent_refused(subject: Any, form: CommentForm, message: str, status: int):
    """The reply cannot go where asked: keep the text and offer to publish it as a new comment."""
    form.parent_id.errors.append(message)
    return _form_page(subject, form, status)


def _shown_parent(subject: Any, form: CommentForm) -> Comment | None:
    """The comment being answered, to quote above a failed reply (None if it is not a valid parent)."""
    if form.parent_id.errors or form.parent_value is None:
        return None
    parent = db.session.get(Comment, form.parent_value)
    if parent is None or parent.subject is not subject or not parent.can_view(current_user):
        return None
    return parent


def _form_page(subject: Any, form: CommentForm, status: int, parent: Comment | None = None):
    """The comment form alone, with the user's text and the errors, when a submission fails."""
    if form.parent_id.errors:
        form.parent_id.data = ""  # the text can still go out as a new comment
    return render_template("comments/new.html", subject=subject, form=form, parent=parent,
                           subject_url=subject_url(subject)), status


def _load_comment(comment_id: int) -> Comment:
    comment = load_or_404(Comment, comment_id, joinedload(Comment.tavolo), joinedload(Comment.proposal),
                          joinedload(Comment.objective))
    if not comment.subject.can_view(current_user) or not comment.can_view(current_user):
        abort(404)
    return comment


def _edit_refusal(comment: Comment) -> tuple[int, str]:
    if not current_user.is_authenticated:
        return 401, ""
    if not comment.is_author(current_user):
        return 403, _("Puoi modificare solo i tuoi commenti.")
    if not current_user.can_contribute:
        return 403, _("Il tuo account non può modificare commenti: verifica l'e-mail o contatta l'Ufficio di Piano.")
    if comment.is_deleted:
        return 409, _("Il commento è stato rimosso e non si può più modificare.")
    if not comment.tavolo.phase_allows("comment"):
        return 409, _("Il tavolo non accetta più commenti: il commento non si può modificare.")
    return 409, _("Il tempo per modificare il commento è scaduto: si può modificare entro %(minutes)d minuti "
                  "dalla pubblicazione.", minutes=_grace_minutes())


def _grace_minutes() -> int:
    return int(current_app.config.get("EDIT_GRACE_MINUTES", 30))


@bp.route("/commenti/<int:comment_id>/modifica", methods=["GET", "POST"])
def edit(comment_id: int):
    comment = _load_comment(comment_id)
    if not comment.can_edit(current_user):
        refuse(_edit_refusal(comment))
    form = CommentEditForm(obj=None if _is_post() else comment)
    if form.validate_on_submit():
        operations.edit_comment(comment, current_user, body=form.body.data, stance=form.stance_value)
        db.session.commit()
        flash(_("Commento modificato."), "success")
        return redirect(comment_url(comment))
    if not _is_post() and form.stance.data is None:
        form.stance.data = ""
    status = 400 if _is_post() else 200
    return render_template("comments/edit.html", comment=comment, subject=comment.subject, form=form,
                           subject_url=subject_url(comment.subject), grace_minutes=_grace_minutes()), status


def _is_post() -> bool:
    return request.method == "POST"


@bp.post("/commenti/<int:comment_id>/elimina")
def delete(comment_id: int):
    comment = _load_comment(comment_id)
    if not comment.can_delete(current_user):
        if not current_user.is_authenticated:
            require(False)
        if not comment.is_author(current_user):
            abort_with(403, _("Puoi eliminare solo i tuoi commenti."))
        if comment.is_deleted:
            abort_with(409, _("Il commento è già stato rimosso."))
        abort_with(403, _("Il tuo account è sospeso: non puoi eliminare commenti."))
    operations.delete_comment(comment, current_user)
    db.session.commit()
    flash(_("Commento eliminato: al suo posto compare «commento rimosso» e le risposte restano."), "success")
    return redirect(comment_url(comment))
