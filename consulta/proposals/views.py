"""Routes of the proposals domain: load -> check -> one operation -> commit -> redirect."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from consulta.core.audit import AuditEvent
from consulta.core.errors import abort_with
from consulta.core.permissions import is_authenticated
from consulta.core.views import load_or_404, require
from consulta.extensions import db
from consulta.proposals import bp
from consulta.proposals.forms import EditProposalForm, FollowForm, ProposalForm, WithdrawForm
from consulta.proposals.listing import objective_url
from consulta.proposals.models import Proposal, ProposalState, Visibility, submission_refusal
from consulta.proposals.operations import (
    edit_proposal,
    follow_proposal,
    submit_proposal,
    unfollow_proposal,
    withdraw_proposal,
)
from consulta.tavoli.models import Follow, Tavolo


def _load_tavolo(slug: str) -> Tavolo:
    tavolo = db.session.execute(
        select(Tavolo).where(Tavolo.slug == slug).options(selectinload(Tavolo.facilitators))
    ).scalar_one_or_none()
    # A draft tavolo is invisible to the public: 404, not 403.
    if tavolo is None or not tavolo.can_view(current_user):
        abort(404)
    return tavolo


def _load_proposal(proposal_id) -> Proposal:
    proposal = load_or_404(
        Proposal, proposal_id,
        joinedload(Proposal.tavolo).selectinload(Tavolo.facilitators),
        joinedload(Proposal.author),
        joinedload(Proposal.organisation),
        joinedload(Proposal.objective),
        joinedload(Proposal.merged_into),
        joinedload(Proposal.answered_by),
    )
    # A pending proposal is not revealed to those who may not see it.
    if not proposal.can_view(current_user):
        abort(404)
    return proposal


def _user():
    """The real User behind the current_user proxy, for operations that store it."""
    return current_user._get_current_object()


def _refuse(refusal: tuple[int, str] | None) -> None:
    if refusal is not None:
        abort_with(*refusal)


def _is_following(proposal: Proposal) -> bool:
    if not is_authenticated(current_user):
        return False
    return db.session.execute(
        select(Follow.id).where(Follow.user_id == current_user.id, Follow.proposal_id == proposal.id)
    ).first() is not None


# --------------------------------------------------------------------------- submit

@bp.route("/tavoli/<slug>/proposte/nuova", methods=["GET", "POST"])
def new(slug: str):
    tavolo = _load_tavolo(slug)
    require(is_authenticated(current_user))
    _refuse(submission_refusal(tavolo, current_user))

    form = ProposalForm(tavolo, current_user)
    if form.validate_on_submit():
        proposal = submit_proposal(
            tavolo=tavolo, author=_user(), title=form.title.data, body=form.body.data,
            objective=form.linked_objective, organisation=form.on_behalf_of,
        )
        db.session.commit()
        if proposal.state == ProposalState.published:
            flash(_("La tua proposta è stata pubblicata."), "success")
        else:
            flash(_("La tua proposta è stata inviata ed è in attesa di moderazione: sarà visibile a tutti "
                    "dopo l'approvazione dei facilitatori."), "info")
        return redirect(url_for("proposals.show", proposal_id=proposal.id))
    status = 400 if form.is_submitted() else 200
    return render_template("proposals/new.html", form=form, tavolo=tavolo), status


# --------------------------------------------------------------------------- permalink

@bp.get("/proposte/<proposal_id>/")
def show(proposal_id):
    # The comments and votes domains import proposals.models: imported here to avoid a cycle.
    from consulta.comments.queries import comment_thread
    from consulta.votes.tally import vote_panel

    proposal = _load_proposal(proposal_id)
    merged_here = db.session.execute(
        select(Proposal.id, Proposal.title)
        .where(Proposal.merged_into_id == proposal.id, Proposal.visibility == Visibility.visible.value)
        .order_by(Proposal.id)
    ).all()
    withdrawal = None
    if proposal.state == ProposalState.withdrawn:
        withdrawal = db.session.execute(
            select(AuditEvent.at, AuditEvent.reason)
            .where(AuditEvent.subject_type == "proposal", AuditEvent.subject_id == proposal.id,
                   AuditEvent.action == "proposal.withdraw")
            .order_by(AuditEvent.at.desc()).limit(1)
        ).first()
    return render_template(
        "proposals/show.html",
        proposal=proposal,
        tavolo=proposal.tavolo,
        merged_here=merged_here,
        withdrawal=withdrawal,
        objective_url=objective_url(proposal.tavolo, proposal.objective_id) if proposal.objective_id else None,
        following=_is_following(proposal),
        follow_form=FollowForm(),
        thread=comment_thread(proposal, current_user),
        panel=vote_panel(proposal, current_user),
    )


# --------------------------------------------------------------------------- edit

@bp.route("/proposte/<proposal_id>/modifica", methods=["GET", "POST"])
def edit(proposal_id):
    proposal = _load_proposal(proposal_id)
    require(is_authenticated(current_user))
    _refuse(proposal.edit_refusal(current_user))

    form = EditProposalForm(
        proposal.tavolo, current_objective=proposal.objective,
        data={"title": proposal.title, "body": proposal.body,
              "objective": str(proposal.objective_id) if proposal.objective_id else ""},
    )
    if form.validate_on_submit():
        edit_proposal(proposal, _user(), title=form.title.data, body=form.body.data,
                      objective=form.linked_objective)
        db.session.commit()
        flash(_("Le modifiche alla proposta sono state salvate."), "success")
        return redirect(url_for("proposals.show", proposal_id=proposal.id))
    status = 400 if form.is_submitted() else 200
    return render_template("proposals/edit.html", form=form, proposal=proposal, tavolo=proposal.tavolo), status


# --------------------------------------------------------------------------- withdraw

@bp.route("/proposte/<proposal_id>/ritira", methods=["GET", "POST"])
def withdraw(proposal_id):
    proposal = _load_proposal(proposal_id)
    require(is_authenticated(current_user))
    _refuse(proposal.withdraw_refusal(current_user))

    form = WithdrawForm()
    if form.validate_on_submit():
        withdraw_proposal(proposal, _user(), reason=form.reason.data)
        db.session.commit()
        flash(_("Hai ritirato la proposta."), "success")
        return redirect(url_for("proposals.show", proposal_id=proposal.id))
    status = 400 if form.is_submitted() else 200
    return render_template("proposals/withdraw.html", form=form, proposal=proposal, tavolo=proposal.tavolo), status


# --------------------------------------------------------------------------- follow

@bp.post("/proposte/<proposal_id>/segui")
def follow(proposal_id):
    proposal = _load_proposal(proposal_id)
    require(is_authenticated(current_user))
    if not proposal.can_follow(current_user):
        abort_with(403, _("Per seguire una proposta serve un account con l'indirizzo e-mail verificato e non "
                          "sospeso."))
    follow_proposal(_user(), proposal)
    db.session.commit()
    flash(_("Ora segui questa proposta: troverai i suoi aggiornamenti nelle notifiche e nel riepilogo."),
          "success")
    return redirect(url_for("proposals.show", proposal_id=proposal.id))


@bp.post("/proposte/<proposal_id>/non-seguire")
def unfollow(proposal_id):
    proposal = _load_proposal(proposal_id)
    require(is_authenticated(current_user))
    require(proposal.can_unfollow(current_user))
    unfollow_proposal(_user(), proposal)
    db.session.commit()
    flash(_("Non segui più questa proposta."), "success")
    return redirect(url_for("proposals.show", proposal_id=proposal.id))
