"""Vote panels and tallies by stakeholder category, computed in SQL.

Contract used by the proposal and objective pages:
    panel = vote_panel(subject, current_user)           # subject: Proposal or Objective
    {% include "votes/_panel.html" %}                   # reads `panel` and `subject`

and for listings (one query for a whole page of proposals):
    totals = tallies_for("proposal", [p.id for p in page])   # {id: Totals}

Tallies never load Vote rows: the database counts (GROUP BY category, value).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup
from sqlalchemy import func, select

from consulta.comments.queries import subject_column, subject_is_open, subject_kind
from consulta.core.permissions import is_active_participant, is_authenticated
from consulta.extensions import db
from consulta.votes.models import VOTE_LABELS, Vote, VoteValue

# Other domains' views import this module while the models are still loading:
# the tavoli and organisations models are imported inside the functions.

VALUES = tuple(v.value for v in VoteValue)  # "for", "against", "abstain"
ORGANISATION_MODE = "organisation"


@dataclass
class Totals:
    """Ballots for / against / abstain on one subject (or in one category)."""

    for_: int = 0
    against: int = 0
    abstain: int = 0

    @property
    def total(self) -> int:
        return self.for_ + self.against + self.abstain

    def add(self, value: str, count: int) -> None:
        attribute = "for_" if value == VoteValue.for_ else value
        setattr(self, attribute, getattr(self, attribute) + count)

    def get(self, value: str) -> int:
        return self.for_ if value == VoteValue.for_ else getattr(self, value)

    def summary(self) -> str:
        """"3 favorevoli · 1 contrario · 0 astenuti"."""
        return " · ".join(value_count_label(v, self.get(v)) for v in VALUES)


@dataclass
class CategoryTotals(Totals):
    category: str = ""

    @property
    def label(self) -> str:
        from consulta.organisations.models import CATEGORY_LABELS

        return str(CATEGORY_LABELS.get(self.category, self.category))


@dataclass
class Tally:
    totals: Totals = field(default_factory=Totals)
    # Every category in CATEGORIES order, zero rows included.
    by_category: list[CategoryTotals] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.totals.total

    def category(self, key: str) -> CategoryTotals:
        return next(row for row in self.by_category if row.category == key)


def value_count_label(value: str, count: int) -> str:
    if value == VoteValue.for_:
        return ngettext("%(num)d favorevole", "%(num)d favorevoli", count)
    if value == VoteValue.against:
        return ngettext("%(num)d contrario", "%(num)d contrari", count)
    return ngettext("%(num)d astenuto", "%(num)d astenuti", count)


def tally(subject: Any) -> Tally:
    """Totals and the breakdown by stakeholder category of one subject: one GROUP BY query."""
    from consulta.organisations.models import CATEGORIES

    rows = db.session.execute(
        select(Vote.category, Vote.value, func.count(Vote.id))
        .where(subject_column(Vote, subject))
        .group_by(Vote.category, Vote.value)
    ).all()
    result = Tally(by_category=[CategoryTotals(category=key) for key in CATEGORIES])
    index = {row.category: row for row in result.by_category}
    for category, value, count in rows:
        result.totals.add(value, count)
        if category not in index:  # a category retired from CATEGORIES still counts in the totals
            index[category] = CategoryTotals(category=category)
            result.by_category.append(index[category])
        index[category].add(value, count)
    return result


def tallies_for(subject_type: str, ids: Iterable[int]) -> dict[int, Totals]:
    """Totals for many proposals or objectives in ONE query; ids without votes get zero totals."""
    if subject_type not in ("proposal", "objective"):
        raise ValueError(f"unknown subject type {subject_type!r}")
    ids = list(dict.fromkeys(ids))
    result = {i: Totals() for i in ids}
    if not ids:
        return result
    column = Vote.proposal_id if subject_type == "proposal" else Vote.objective_id
    rows = db.session.execute(
        select(column, Vote.value, func.count(Vote.id)).where(column.in_(ids)).group_by(column, Vote.value)
    ).all()
    for subject_id, value, count in rows:
        result[subject_id].add(value, count)
    return result


# --------------------------------------------------------------------------- who votes, as what

@dataclass(frozen=True)
class Ballot:
    """Whose vote a user casts on a subject: their own, or their organisation's."""

    key: str
    category: str
    organisation: Any = None


def ballot_for(subject: Any, user: Any) -> Ballot | None:
    if not is_authenticated(user):
        return None
    organisation = user.represented_organisation
    if subject.tavolo.vote_mode == ORGANISATION_MODE:
        if organisation is None:
            return None
        return Ballot(key=f"organisation:{organisation.id}", category=organisation.type, organisation=organisation)
    return Ballot(key=f"person:{user.id}", category=user.stakeholder_category)


def current_vote(subject: Any, ballot: Ballot | None) -> Vote | None:
    if ballot is None:
        return None
    return db.session.execute(
        select(Vote).where(subject_column(Vote, subject), Vote.ballot_key == ballot.key)
    ).scalar_one_or_none()


def vote_refusal(subject: Any, user: Any) -> tuple[int, str] | None:
    """Why `user` may not vote on `subject` (HTTP status, Italian message), or None if they may.

    The decision is `subject.can_vote(user)`; this only explains a refusal, saying first what holds
    for everyone (phase, state of the subject), then what concerns this user. 401 means "log in".
    """
    from consulta.tavoli.models import PHASE_LABELS

    if subject.can_vote(user):
        return None
    tavolo = subject.tavolo
    if not tavolo.phase_allows("vote"):
        return 409, _("Il tavolo è nella fase «%(phase)s»: le votazioni sono chiuse.",
                      phase=PHASE_LABELS[tavolo.phase])
    if not subject_is_open(subject):
        if subject_kind(subject) == "proposal":
            return 409, _("Questa proposta non si può votare nel suo stato attuale.")
        return 409, _("Questo obiettivo non si può più votare.")
    if not is_authenticated(user):
        return 401, _("Accedi per votare.")
    if user.email_verified_at is None:
        return 403, _("Per votare devi prima verificare il tuo indirizzo e-mail.")
    if user.blocked_at is not None:
        return 403, _("Il tuo account è sospeso: puoi leggere ma non votare.")
    if tavolo.vote_mode == ORGANISATION_MODE and user.represented_organisation is None:
        return 403, _("In questo tavolo votano le organizzazioni: vota solo chi rappresenta un'organizzazione "
                      "verificata, una volta per l'organizzazione.")
    return 403, _("Non puoi votare qui.")


# --------------------------------------------------------------------------- the panel

@dataclass
class VotePanel:
    subject: Any
    total: int = 0
    tally: Tally = field(default_factory=Tally)
    current: str | None = None          # the value of the user's (or their organisation's) ballot
    can_vote: bool = False
    refusal: str | None = None
    refusal_status: int | None = None
    organisation: Any = None            # set when the user votes for an organisation
    by_organisation: bool = False
    # Explain organisation voting, unless the refusal already says it.
    show_mode_note: bool = False
    post_url: str = ""
    chart: Markup = Markup("")
    choices: list[tuple[str, str]] = field(default_factory=list)

    @property
    def current_label(self) -> str | None:
        return str(VOTE_LABELS[self.current]) if self.current else None


def vote_post_url(subject: Any) -> str:
    if subject_kind(subject) == "proposal":
        return url_for("votes.vote_on_proposal", proposal_id=subject.id)
    return url_for("votes.vote_on_objective", objective_id=subject.id)


def vote_panel(subject, user) -> VotePanel:
    from consulta.votes.chart import category_chart

    result = tally(subject)
    refusal = vote_refusal(subject, user)
    ballot = ballot_for(subject, user) if refusal is None else None
    vote = current_vote(subject, ballot)
    return VotePanel(
        subject=subject,
        total=result.total,
        tally=result,
        current=vote.value if vote is not None else None,
        can_vote=refusal is None,
        refusal=refusal[1] if refusal else None,
        refusal_status=refusal[0] if refusal else None,
        organisation=ballot.organisation if ballot is not None else None,
        by_organisation=subject.tavolo.vote_mode == ORGANISATION_MODE,
        show_mode_note=subject.tavolo.vote_mode == ORGANISATION_MODE and (
            refusal is None or not is_active_participant(user)),
        post_url=vote_post_url(subject),
        chart=category_chart(result, chart_id=f"grafico-voti-{subject_kind(subject)}-{subject.id}"),
        choices=[(v, str(VOTE_LABELS[v])) for v in VALUES],
    )
