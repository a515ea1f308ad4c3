"""Routes of the proposals domain: load -> check -> one operation -> commit -> redirect."""

from __future__ import annotations

from functools import cache

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import false, select
from sqlalchemy.orm import joinedload, selectinload

from consulta.accounts.models import User
from consulta.core import layout
from consulta.core.audit import AuditEvent
from consulta.core.errors import abort_with
from consulta.core.fragments import visitor_body
from consulta.core.permissions import is_authenticated
from consulta.core.states import Conflict, TransitionError
from consulta.core.submissions import remember
from consulta.core.views import key_or_404, load_or_404, require
from consulta.extensions import db
from consulta.organisations.models import Organisation
from consulta.proposals import bp
from consulta.proposals.forms import (
    MERGED,
    AnswerForm,
    EditProposalForm,
    FollowForm,
    OfflineProposalForm,
    ProposalForm,
    ReviewForm,
    WithdrawForm,
)
from consulta.proposals.listing import objective_url
from consulta.proposals.models import (
    OUTCOME_LABELS,
    Proposal,
    ProposalState,
    Visibility,
    submission_refusal,
)
from consulta.proposals.operations import (
    answer_proposal,
    edit_proposal,
    follow_proposal,
    merge_proposal,
    record_offline_proposal,
    start_review,
    submit_proposal,
    unfollow_proposal,
    withdraw_proposal,
)
from consulta.tavoli.models import Follow, Objective, Tavolo


def _load_tavolo(slug: str) -> Tavolo:
    tavolo = db.session.execute(
        select(Tavolo).where(Tavolo.slug == slug).options(selectinload(Tavolo.facilitators))
    ).scalar_one_or_none()
    # A draft tavolo is invisible to the public: 404, not 403.
    if tavolo is None or not tavolo.can_view(current_user):
        abort(404)
    return tavolo


@cache  # built once, on the first request (the mappers are all configured by then): options cost to build
def _proposal_options() -> tuple:
    """What the proposal's pages read with it: its tavolo and the facilitators (every permission asks), who
    wrote it and for whom, its objective, what it was merged into, who answered. Not the comuni of these
    people and of the organisation, nor the objective's tavolo again: each join costs the planner more than
    the rows cost (a lazy load would fetch them, should a page ever ask)."""
    return (
        joinedload(Proposal.tavolo).joinedload(Tavolo.facilitators).lazyload(User.comune),
        joinedload(Proposal.author).lazyload(User.comune),
        joinedload(Proposal.organisation).lazyload(Organisation.comune),
        joinedload(Proposal.objective).lazyload(Objective.tavolo),
        joinedload(Proposal.merged_into),
        joinedload(Proposal.answered_by).lazyload(User.comune),
    )


def _visible(proposal: Proposal | None) -> Proposal:
    # A pending proposal is not revealed to those who may not see it.
    if proposal is None or not proposal.can_view(current_user):
        abort(404)
    return proposal


def _load_proposal(proposal_id) -> Proposal:
    return _visible(load_or_404(Proposal, proposal_id, *_proposal_options()))


def _load_proposal_page(proposal_id) -> tuple[Proposal, bool]:
    """The proposal for its page, and whether the user follows it: one statement, that also reads what the
    layout shows (consulta.core.layout)."""
    following = false()
    if is_authenticated(current_user):
        following = select(Follow.id).where(Follow.user_id == current_user.id,
                                            Follow.proposal_id == Proposal.id).exists()
    row = db.session.execute(layout.along(
        select(Proposal, following.label("following")).where(Proposal.id == key_or_404(proposal_id))
        .options(*_proposal_options()), current_user)).unique().one_or_none()
    if row is None:
        return _visible(None), False
    proposal, following, *for_layout = row
    layout.keep(*for_layout)
    return _visible(proposal), bool(following)


def _user():
    """The real User behind the current_user proxy, for operations that store it."""
    return current_user._get_current_object()


def _refuse(refusal: tuple[int, str] | None) -> None:
    if refusal is not None:
        abort_with(*refusal)


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
        remember(form, proposal, url_for("proposals.show", proposal_id=proposal.id))
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
    # The comments, votes and moderation domains import proposals.models: imported here to avoid a cycle.
    from consulta.comments.queries import AFTER, comment_thread
    from consulta.meetings.queries import decision_for
    from consulta.moderation.forms import ActionForm, DismissForm, RestoreForm
    from consulta.moderation.queries import open_flags_of, user_has_flagged
    from consulta.votes.tally import vote_panel

    proposal, following = _load_proposal_page(proposal_id)
    merged_here = db.session.execute(
        select(Proposal.id, Proposal.title)
        .where(Proposal.merged_into_id == proposal.id, Proposal.visibility == Visibility.visible.value)
        .order_by(Proposal.id)
    ).all()
    moderator = proposal.can_moderate(current_user)
    signed_in = is_authenticated(current_user)
    withdrawal = None
    if proposal.state == ProposalState.withdrawn:
        withdrawal = db.session.execute(
            select(AuditEvent.at, AuditEvent.reason)
            .where(AuditEvent.subject_type == "proposal", AuditEvent.subject_id == proposal.id,
                   AuditEvent.action == "proposal.withdraw")
            .order_by(AuditEvent.at.desc()).limit(1)
        ).first()
    context = dict(
        proposal=proposal,
        tavolo=proposal.tavolo,
        merged_here=merged_here,
        withdrawal=withdrawal,
        objective_url=objective_url(proposal.tavolo, proposal.objective_id) if proposal.objective_id else None,
        decision=decision_for(proposal),
        following=following,
        # The forms only for someone signed in: an anonymous reader gets no session (no CSRF token to
        # keep), so the page can be answered 304 from the first visit.
        follow_form=FollowForm() if signed_in else None,
        thread=comment_thread(proposal, current_user, request.args.get(AFTER)),
        panel=vote_panel(proposal, current_user),
        moderator=moderator,
        flags=open_flags_of(proposal) if moderator else [],
        flagged_by_me=user_has_flagged(current_user, proposal),
        action_form=ActionForm(formdata=None) if signed_in else None,
        restore_form=RestoreForm(formdata=None) if signed_in else None,
        dismiss_form=DismissForm(formdata=None) if signed_in else None,
    )
    return render_template("proposals/show.html", proposal=proposal, tavolo=proposal.tavolo,
                           body=visitor_body("proposals/_show_body.html", context))


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


# --------------------------------------------------------------------------- facilitators: evaluation and answers

@bp.post("/facilitazione/proposte/<int:proposal_id>/valutazione")
def review(proposal_id: int):
    proposal = _load_proposal(proposal_id)
    require(is_authenticated(current_user))
    _refuse(proposal.answer_refusal(current_user))
    if proposal.state != ProposalState.published:
        abort_with(409, _("La proposta è già in valutazione."))
    if not ReviewForm().validate_on_submit():
        abort_with(400, _("Il modulo è scaduto o non è valido. Ricarica la pagina e riprova."))
    start_review(proposal, _user())
    db.session.commit()
    flash(_("La proposta è ora in valutazione: chi l'ha presentata ne è stato informato."), "success")
    return redirect(url_for("proposals.show", proposal_id=proposal.id))


@bp.route("/facilitazione/proposte/<int:proposal_id>/risposta", methods=["GET", "POST"])
def answer(proposal_id: int):
    proposal = _load_proposal(proposal_id)
    require(is_authenticated(current_user))
    _refuse(proposal.answer_refusal(current_user))

    form = AnswerForm(proposal)
    status = 200
    if form.validate_on_submit():
        try:
            if form.outcome.data == MERGED:
                target = db.session.get(Proposal, form.merge_target_id)
                merge_proposal(proposal, target, _user(), motivation=form.motivation.data)
            else:
                answer_proposal(proposal, _user(), outcome=form.outcome.data, motivation=form.motivation.data)
        except TransitionError as refused:
            # A refusal about the chosen answer goes back on the form; a lost race and a refused
            # actor go to the one error handler (409 / 403).
            if refused.status == 403 or isinstance(refused, Conflict):
                raise
            db.session.rollback()
            field = form.merge_into if form.outcome.data == MERGED else form.outcome
            field.errors = [*field.errors, refused.message]
            status = refused.status
        else:
            db.session.commit()
            if proposal.state == ProposalState.merged:
                flash(_("La proposta è stata unita a «%(title)s»: l'autore e chi la segue ne sono stati informati.",
                        title=proposal.merged_into.title), "success")
            else:
                flash(_("Risposta pubblicata («%(outcome)s»): l'autore e chi segue la proposta ne sono stati "
                        "informati.", outcome=str(OUTCOME_LABELS[proposal.state]).lower()), "success")
            return redirect(url_for("proposals.show", proposal_id=proposal.id) + "#answer-title")
    elif form.is_submitted():
        status = 400
    return render_template("proposals/answer.html", form=form, proposal=proposal, tavolo=proposal.tavolo), status


# --------------------------------------------------------------------------- facilitators: off-line contributions

@bp.route("/facilitazione/tavoli/<slug>/proposte/registra", methods=["GET", "POST"])
def record_offline(slug: str):
    tavolo = _load_tavolo(slug)
    require(is_authenticated(current_user))
    require(tavolo.can_facilitate(current_user))
    if tavolo.phase not in ("open", "discussion"):
        abort_with(409, _("Il tavolo è «%(phase)s»: non si possono registrare nuove proposte.",
                          phase=tavolo.phase_label))

    form = OfflineProposalForm(tavolo)
    if form.validate_on_submit():
        organisation = form.chosen_organisation if form.presenter.data == "organisation" else None
        proposal = record_offline_proposal(
            tavolo=tavolo, recorder=_user(), channel=form.channel.data, protocol_number=form.protocol_number.data,
            title=form.title.data, body=form.body.data, organisation=organisation,
            author_name=form.author_name.data, objective=form.linked_objective,
        )
        remember(form, proposal, url_for("proposals.show", proposal_id=proposal.id))
        db.session.commit()
        flash(_("Proposta registrata e pubblicata con l'indicazione «%(badge)s».", badge=proposal.offline_badge),
              "success")
        return redirect(url_for("proposals.show", proposal_id=proposal.id))
    status = 400 if form.is_submitted() else 200
    return render_template("proposals/offline.html", form=form, tavolo=tavolo), status
