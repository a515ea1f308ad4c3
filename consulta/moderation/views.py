"""Routes of moderation: the queue with its bulk bar, one route per act (approve, hide,
restore, keep after flags), the flag form of participants and the public moderation log.

Each route loads with explicit loader options, checks `can_moderate`/`can_flag`, calls one
operation, commits once and redirects with an Italian message.
"""

from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_timedelta, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from consulta.comments.models import Comment
from consulta.core.db import utcnow
from consulta.core.errors import abort_with
from consulta.core.input_guard import page_number
from consulta.core.permissions import is_authenticated
from consulta.core.views import load_or_404, require, safe_next_url
from consulta.extensions import db
from consulta.moderation import bp, operations
from consulta.moderation.forms import (
    ActionForm,
    BulkForm,
    DismissForm,
    FlagForm,
    HideForm,
    RestoreForm,
)
from consulta.moderation.models import REASON_LABELS, Flag
from consulta.moderation.queries import (
    moderated_tavoli,
    moderation_log,
    moderation_queue,
    open_flags_of,
)
from consulta.proposals.models import Proposal
from consulta.tavoli.models import Tavolo

KINDS = {"proposte": "proposal", "commenti": "comment"}
SLUG_MAX = 120


@bp.app_template_filter("waiting_for")
def waiting_for(since) -> str:
    """How long an item has been waiting, in words ("3 giorni")."""
    if since is None:
        return ""
    return format_timedelta(max(utcnow() - since, timedelta(0)), granularity="minute", threshold=1.0)


@bp.app_template_global("moderation_reason_labels")
def _reason_labels():
    return REASON_LABELS


def _user():
    return current_user._get_current_object()


def _load_tavolo(slug: str) -> Tavolo:
    tavolo = None
    if len(slug) <= SLUG_MAX:
        tavolo = db.session.execute(
            select(Tavolo).where(Tavolo.slug == slug)
            .options(joinedload(Tavolo.plan), selectinload(Tavolo.facilitators))
        ).unique().scalar_one_or_none()
    if tavolo is None or not tavolo.can_view(current_user):
        abort_with(404, _("Tavolo non trovato."))
    return tavolo


def _load_proposal(proposal_id: int) -> Proposal:
    return load_or_404(Proposal, proposal_id,
                       joinedload(Proposal.tavolo).selectinload(Tavolo.facilitators),
                       joinedload(Proposal.author), joinedload(Proposal.organisation))


def _load_comment(comment_id: int) -> Comment:
    return load_or_404(Comment, comment_id,
                       joinedload(Comment.tavolo).selectinload(Tavolo.facilitators),
                       joinedload(Comment.author), joinedload(Comment.organisation),
                       joinedload(Comment.proposal), joinedload(Comment.objective))


def _load_item(kind: str, item_id: int):
    """The proposal or comment a moderation route acts on; only its tavolo's moderators get past."""
    if kind not in KINDS:
        abort(404)
    item = _load_proposal(item_id) if KINDS[kind] == "proposal" else _load_comment(item_id)
    require(item.can_moderate(current_user))
    return item


@bp.app_template_global("moderation_item_url")
def _item_url(item) -> str:
    """The public page of a proposal, or the permalink of a comment (it leads to the comment on its page)."""
    if item.__tablename__ == "proposal":
        return url_for("proposals.show", proposal_id=item.id)
    return url_for("comments.permalink", comment_id=item.id)


def _back(item=None) -> str:
    default = url_for("moderation.queue")
    return safe_next_url(request.form.get("next") or request.args.get("next"), default)


def _item_name(item) -> str:
    if item.__tablename__ == "proposal":
        return _("La proposta «%(title)s»", title=item.title)
    return _("Il commento")


# --------------------------------------------------------------------------- the queue

@bp.get("/facilitazione/moderazione/")
@bp.get("/facilitazione/moderazione/<slug>/")
def queue(slug: str | None = None):
    require(Tavolo.can_use_facilitation(current_user))
    chosen = request.args.get("tavolo")
    if slug is None and chosen:
        # The filter form of the queue page names the tavolo in the query string.
        return redirect(url_for("moderation.queue", slug=chosen[:SLUG_MAX]))
    tavolo = None
    if slug is not None:
        tavolo = _load_tavolo(slug)
        require(tavolo.can_facilitate(current_user))
    return _render_queue(tavolo, BulkForm(formdata=None))


def _render_queue(tavolo, bulk_form, status: int = 200):
    data = moderation_queue(current_user, tavolo=tavolo, page=page_number("page"))
    return render_template(
        "moderation/queue.html", queue=data, tavolo=tavolo, tavoli=moderated_tavoli(current_user),
        bulk_form=bulk_form, action_form=ActionForm(formdata=None),
    ), status


@bp.post("/facilitazione/moderazione/azioni")
def bulk():
    require(Tavolo.can_use_facilitation(current_user))
    form = BulkForm()
    tavolo = None
    slug = request.form.get("tavolo") or None
    if slug:
        tavolo = _load_tavolo(slug)
        require(tavolo.can_facilitate(current_user))
    if not form.validate_on_submit():
        return _render_queue(tavolo, form, 400)
    proposal_ids = [i for kind, i in form.tokens if kind == "p"]
    comment_ids = [i for kind, i in form.tokens if kind == "c"]
    items = []
    if proposal_ids:
        items += db.session.execute(
            select(Proposal).where(Proposal.id.in_(proposal_ids))
            .options(joinedload(Proposal.tavolo).selectinload(Tavolo.facilitators), joinedload(Proposal.author))
        ).unique().scalars().all()
    if comment_ids:
        items += db.session.execute(
            select(Comment).where(Comment.id.in_(comment_ids))
            .options(joinedload(Comment.tavolo).selectinload(Tavolo.facilitators), joinedload(Comment.author),
                     joinedload(Comment.proposal), joinedload(Comment.objective))
        ).unique().scalars().all()
    missing = len(form.tokens) - len(items)
    action = form.bulk_action.data
    result = operations.bulk_moderate(items, _user(), action=action, reason=form.bulk_reason.data or None,
                                      note=form.bulk_note.data)
    db.session.commit()
    if action == "approve":
        message = ngettext("%(num)d contenuto approvato e pubblicato.", "%(num)d contenuti approvati e pubblicati.",
                           result.done)
    else:
        message = ngettext("%(num)d contenuto nascosto.", "%(num)d contenuti nascosti.", result.done)
    flash(message, "success" if result.done else "info")
    skipped = len(result.skipped) + missing
    if skipped:
        flash(ngettext("%(num)d contenuto era già stato moderato (o non esiste più) ed è rimasto com'era.",
                       "%(num)d contenuti erano già stati moderati (o non esistono più) e sono rimasti com'erano.",
                       skipped), "info")
    default = url_for("moderation.queue", slug=tavolo.slug) if tavolo else url_for("moderation.queue")
    return redirect(safe_next_url(request.form.get("next"), default))


# --------------------------------------------------------------------------- one item at a time

@bp.post("/facilitazione/moderazione/<kind>/<int:item_id>/approva")
def approve(kind: str, item_id: int):
    item = _load_item(kind, item_id)
    operations.approve(item, _user())
    db.session.commit()
    flash(_("%(item)s è stata approvata ed è ora pubblica.", item=_item_name(item))
          if item.__tablename__ == "proposal" else _("Il commento è stato approvato ed è ora pubblico."), "success")
    return redirect(_back(item))


@bp.route("/facilitazione/moderazione/<kind>/<int:item_id>/nascondi", methods=["GET", "POST"])
def hide(kind: str, item_id: int):
    item = _load_item(kind, item_id)
    form = HideForm()
    if form.validate_on_submit():
        operations.hide(item, _user(), reason=form.reason.data, note=form.note.data)
        db.session.commit()
        flash(_("Contenuto nascosto. Al suo posto il pubblico vede il motivo: «%(reason)s».",
                reason=item.hidden_reason_text), "success")
        return redirect(_back(item))
    status = 400 if form.is_submitted() else 200
    return render_template("moderation/hide.html", item=item, kind=kind, form=form, item_url=_item_url(item),
                           flags=open_flags_of(item), next=_back(item)), status


@bp.post("/facilitazione/moderazione/<kind>/<int:item_id>/ripristina")
def restore(kind: str, item_id: int):
    item = _load_item(kind, item_id)
    form = RestoreForm()
    if not form.validate_on_submit():
        abort_with(400, "; ".join(str(e) for errors in form.errors.values() for e in errors))
    operations.restore(item, _user(), note=form.note.data)
    db.session.commit()
    flash(_("Contenuto ripristinato: è di nuovo visibile a tutti."), "success")
    return redirect(_back(item))


@bp.post("/facilitazione/moderazione/<kind>/<int:item_id>/mantieni")
def keep(kind: str, item_id: int):
    item = _load_item(kind, item_id)
    form = DismissForm()
    if not form.validate_on_submit():
        abort_with(400, "; ".join(str(e) for errors in form.errors.values() for e in errors))
    count = operations.dismiss_flags(item, _user(), note=form.note.data)
    db.session.commit()
    flash(ngettext("Segnalazione archiviata: il contenuto resta visibile.",
                   "%(num)d segnalazioni archiviate: il contenuto resta visibile.", count), "success")
    return redirect(_back(item))


# --------------------------------------------------------------------------- flags

def _flag_page(item, subject_url: str):
    require(is_authenticated(current_user))
    refusal = operations.flag_refusal(item, current_user)
    if refusal is not None:
        abort_with(*refusal)
    already = db.session.execute(
        select(Flag.id).where(Flag.reporter_id == current_user.id,
                              (Flag.proposal_id if item.__tablename__ == "proposal" else Flag.comment_id) == item.id)
    ).first()
    if already is not None:
        abort_with(409, _("Hai già segnalato questo contenuto: i facilitatori lo stanno esaminando."))
    form = FlagForm()
    if form.validate_on_submit():
        outcome = operations.flag(item, _user(), reason=form.reason.data, note=form.note.data)
        db.session.commit()
        flash(_("Grazie: la segnalazione è arrivata ai facilitatori del tavolo."), "success")
        if outcome.provisionally_hidden:
            flash(_("Dopo più segnalazioni il contenuto è stato nascosto in attesa della revisione dei "
                    "facilitatori."), "info")
        return redirect(subject_url)
    status = 400 if form.is_submitted() else 200
    return render_template("moderation/flag.html", item=item, form=form, subject_url=subject_url), status


@bp.route("/proposte/<int:proposal_id>/segnala", methods=["GET", "POST"])
def flag_proposal(proposal_id: int):
    proposal = _load_proposal(proposal_id)
    if not proposal.can_view(current_user):
        abort(404)
    return _flag_page(proposal, url_for("proposals.show", proposal_id=proposal.id))


@bp.route("/commenti/<int:comment_id>/segnala", methods=["GET", "POST"])
def flag_comment(comment_id: int):
    comment = _load_comment(comment_id)
    if not comment.subject.can_view(current_user) or not comment.can_view(current_user):
        abort(404)
    return _flag_page(comment, _item_url(comment))


# --------------------------------------------------------------------------- public log

@bp.get("/tavoli/<slug>/registro-moderazione")
def log(slug: str):
    tavolo = _load_tavolo(slug)
    pagination, entries = moderation_log(tavolo, current_user)
    return render_template("moderation/log.html", tavolo=tavolo, pagination=pagination, entries=entries)
