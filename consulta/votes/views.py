"""Routes of the votes domain: cast, change and withdraw a vote.

The panel (tally, chart, buttons) is rendered by the proposal and objective pages (see tally.py).
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from consulta.comments.queries import refuse, subject_url
from consulta.core.errors import abort_with
from consulta.core.views import load_or_404
from consulta.extensions import db
from consulta.proposals.models import Proposal
from consulta.tavoli.models import Objective
from consulta.votes import bp, operations
from consulta.votes.forms import VoteForm
from consulta.votes.models import VOTE_LABELS
from consulta.votes.tally import vote_refusal


@bp.post("/proposte/<int:proposal_id>/voto")
def vote_on_proposal(proposal_id: int):
    proposal = load_or_404(Proposal, proposal_id, joinedload(Proposal.tavolo))
    return _post_vote(proposal)


@bp.post("/obiettivi/<int:objective_id>/voto")
def vote_on_objective(objective_id: int):
    objective = load_or_404(Objective, objective_id)
    return _post_vote(objective)


def _post_vote(subject: Any):
    if not subject.can_view(current_user):
        abort(404)
    if not subject.can_vote(current_user):
        refuse(vote_refusal(subject, current_user))
    form = VoteForm()
    if not form.validate_on_submit():
        abort_with(400, _("Scegli un voto valido: favorevole, contrario, astenuto oppure ritira il voto."))
    if form.removes:
        removed = operations.withdraw_vote(subject, current_user)
        message = _("Voto ritirato.") if removed else _("Non c'era un voto da ritirare.")
    else:
        vote = operations.cast_vote(subject, current_user, form.value.data)
        label = str(VOTE_LABELS[vote.value])
        if vote.organisation_id is not None and subject.tavolo.vote_mode == "organisation":
            message = _("Voto registrato per %(name)s: %(value)s.",
                        name=current_user.represented_organisation.name, value=label)
        else:
            message = _("Voto registrato: %(value)s.", value=label)
    db.session.commit()
    flash(message, "success")
    return redirect(f"{subject_url(subject)}#voti")
