"""Vote operations: each changes rows and flushes; the view commits.

A ballot is unique per subject and `ballot_key` (a database constraint), so a
double vote is impossible. Two identical requests at the same moment both try
to insert: the loser's INSERT fails inside a SAVEPOINT, which is rolled back,
and it updates the winner's row instead — never a 500.

A vote locks its subject, so the subject cannot be withdrawn or closed under it
(the withdrawal waits, or the vote finds it withdrawn: 409), and votes on one
subject take turns: each moves the counters on the subject's row (ballots in
favour) and the voter's participation in the tavolo, with atomic updates. It
updates its ballot under a row lock, so a vote and its own withdrawal racing are
serialised instead of updating a row that was just deleted.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from consulta.comments.queries import subject_column, subject_kind
from consulta.core.states import Conflict, lock
from consulta.extensions import db
from consulta.proposals.models import count_on_proposal
from consulta.tavoli.counters import take_part
from consulta.votes.models import Vote, VoteValue
from consulta.votes.tally import Ballot, ballot_for


class VoteConflict(Conflict):
    """The ballot changed under us in a way we cannot resolve: 409 from the error handler."""

    def __init__(self):
        super().__init__(_("Il voto è stato cambiato da un'altra richiesta nello stesso momento: ricarica la "
                           "pagina e riprova."))


class NoBallot(Exception):
    """The user has no ballot on this subject (the caller should have checked can_vote)."""


def _ballot_or_raise(subject: Any, user: Any) -> Ballot:
    ballot = ballot_for(subject, user)
    if ballot is None:
        raise NoBallot()
    return ballot


def _existing(subject: Any, ballot: Ballot) -> Vote | None:
    return db.session.execute(
        select(Vote).where(subject_column(Vote, subject), Vote.ballot_key == ballot.key)
        .with_for_update().execution_options(populate_existing=True)
    ).scalar_one_or_none()


Counted = tuple[int | None, str]  # a stored ballot as the counters see it: (voter_id, value)


def _count(subject: Any, before: Counted | None, after: Counted | None) -> None:
    """The counters follow a ballot from `before` to `after` (None: no ballot): the ballots in favour
    on a proposal's row, and the voter's participation in the tavolo."""
    if subject_kind(subject) == "proposal":
        in_favour = [int(b is not None and b[1] == VoteValue.for_) for b in (before, after)]
        count_on_proposal(subject.id, votes_for=in_favour[1] - in_favour[0])
    voters = [b[0] if b is not None else None for b in (before, after)]
    if voters[0] != voters[1]:
        take_part(subject.tavolo_id, voters[0], -1)
        take_part(subject.tavolo_id, voters[1], +1)


def cast_vote(subject: Any, user: Any, value: str) -> Vote:
    """Record `user`'s vote (or their organisation's) on `subject`, replacing an earlier one."""
    lock(subject)
    if not subject.can_vote(user):
        # Withdrawn, decided or closed since the page was shown.
        raise Conflict(_("Non si può più votare: nel frattempo la proposta o l'obiettivo ha cambiato stato. "
                         "Ricarica la pagina."))
    ballot = _ballot_or_raise(subject, user)
    vote = _existing(subject, ballot)
    if vote is None:
        kind = subject_kind(subject)
        vote = Vote(
            tavolo_id=subject.tavolo_id,
            proposal_id=subject.id if kind == "proposal" else None,
            objective_id=subject.id if kind == "objective" else None,
            ballot_key=ballot.key,
            voter_id=user.id,
            organisation_id=ballot.organisation.id if ballot.organisation is not None else None,
            category=ballot.category,
            value=value,
        )
        try:
            with db.session.begin_nested():
                db.session.add(vote)
        except IntegrityError:
            # A concurrent request inserted the same ballot first: update that row instead.
            vote = _existing(subject, ballot)
            if vote is None:
                raise VoteConflict() from None
        else:
            _count(subject, None, (vote.voter_id, vote.value))
            return vote
    _count(subject, (vote.voter_id, vote.value), (user.id, value))
    vote.value = value
    vote.voter_id = user.id
    vote.category = ballot.category
    vote.organisation_id = ballot.organisation.id if ballot.organisation is not None else None
    db.session.flush()
    return vote


def withdraw_vote(subject: Any, user: Any) -> bool:
    """Remove `user`'s ballot on `subject`; True if there was one."""
    ballot = _ballot_or_raise(subject, user)
    lock(subject)
    removed = db.session.execute(
        delete(Vote).where(subject_column(Vote, subject), Vote.ballot_key == ballot.key)
        .returning(Vote.voter_id, Vote.value)
        .execution_options(synchronize_session=False)
    ).first()
    if removed is not None:
        _count(subject, (removed.voter_id, removed.value), None)
    db.session.flush()
    return removed is not None
