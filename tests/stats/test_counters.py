"""The counters kept on proposals and tavoli follow every operation that changes what they count, and
`flask recount` (which recomputes them from the rows) finds nothing to correct; when rows were written
around the operations, it puts the counters right."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from consulta.comments import operations as comments_ops
from consulta.extensions import db
from consulta.moderation import operations as moderation
from consulta.proposals import operations as proposals_ops
from consulta.proposals.models import Proposal
from consulta.stats.recount import recount
from consulta.tavoli.models import Tavolo, TavoloParticipant
from consulta.votes import operations as votes_ops

TAVOLO_COUNTERS = ("proposals_count", "comments_count", "participants_count", "register_count",
                   "answered_count", "listed_count")


def tavolo_figures(tavolo) -> dict[str, int]:
    row = db.session.execute(select(*(getattr(Tavolo, name) for name in TAVOLO_COUNTERS))
                             .where(Tavolo.id == tavolo.id)).one()
    return dict(zip(TAVOLO_COUNTERS, row, strict=True))


def card(proposal) -> tuple[int, int]:
    """(ballots in favour, public comments) as the proposal's row keeps them."""
    return tuple(db.session.execute(select(Proposal.votes_for_count, Proposal.comments_count)
                                    .where(Proposal.id == proposal.id)).one())


def participations() -> set[tuple[int, int, int]]:
    return set(db.session.execute(
        select(TavoloParticipant.tavolo_id, TavoloParticipant.user_id, TavoloParticipant.contributions)
        .where(TavoloParticipant.contributions > 0)).all())


def assert_recount_agrees():
    """What the operations kept is what recounting the rows gives."""
    kept = participations()
    result = recount()
    assert (result.proposals, result.tavoli) == (0, 0)
    assert participations() == kept


def figures(proposals=0, comments=0, participants=0, register=0, answered=0, listed=0) -> dict[str, int]:
    return {"proposals_count": proposals, "comments_count": comments, "participants_count": participants,
            "register_count": register, "answered_count": answered, "listed_count": listed}


@pytest.fixture
def facilitator(create_user):
    return create_user(display_name="Fabio Facilitatore", role="facilitator")


def test_proposals_comments_and_votes_move_the_counters_and_recount_agrees(
        create_tavolo, create_user, facilitator):
    tavolo = create_tavolo(facilitators=[facilitator])
    alice, bruno, carla = create_user(), create_user(), create_user()

    proposal = proposals_ops.submit_proposal(tavolo=tavolo, author=alice, title="Centro diurno", body="Testo")
    db.session.commit()
    assert tavolo_figures(tavolo) == figures(proposals=1, participants=1, register=1, listed=1)
    assert_recount_agrees()

    comment = comments_ops.create_comment(proposal, bruno, body="D'accordo")
    votes_ops.cast_vote(proposal, carla, "for")
    db.session.commit()
    assert card(proposal) == (1, 1)
    assert tavolo_figures(tavolo) == figures(proposals=1, comments=1, participants=3, register=1, listed=1)
    assert_recount_agrees()

    # A changed ballot stops counting in favour; a withdrawn one stops counting its voter.
    votes_ops.cast_vote(proposal, carla, "against")
    db.session.commit()
    assert card(proposal) == (0, 1)
    votes_ops.withdraw_vote(proposal, carla)
    db.session.commit()
    assert tavolo_figures(tavolo)["participants_count"] == 2
    votes_ops.cast_vote(proposal, carla, "for")
    db.session.commit()
    assert card(proposal) == (1, 1) and tavolo_figures(tavolo)["participants_count"] == 3
    assert_recount_agrees()

    # Hidden and restored comments, then one deleted by its author.
    moderation.hide(comment, facilitator, reason="off_topic")
    db.session.commit()
    assert card(proposal) == (1, 0)
    assert tavolo_figures(tavolo) == figures(proposals=1, participants=2, register=1, listed=1)
    moderation.restore(comment, facilitator)
    db.session.commit()
    assert card(proposal) == (1, 1) and tavolo_figures(tavolo)["participants_count"] == 3
    comments_ops.delete_comment(comment, bruno)
    db.session.commit()
    assert card(proposal) == (1, 0)
    assert_recount_agrees()

    # A hidden proposal stays in the list as a placeholder, out of the figures and the register.
    moderation.hide(proposal, facilitator, reason="spam")
    db.session.commit()
    assert tavolo_figures(tavolo) == figures(participants=1, listed=1)
    moderation.restore(proposal, facilitator)
    proposals_ops.answer_proposal(proposal, facilitator, outcome="approved", motivation="Accolta.")
    db.session.commit()
    assert tavolo_figures(tavolo) == figures(proposals=1, participants=2, register=1, answered=1, listed=1)
    assert_recount_agrees()

    # Withdrawn: listed, no longer in the figures or in the register.
    other = proposals_ops.submit_proposal(tavolo=tavolo, author=bruno, title="Trasporto", body="Testo")
    proposals_ops.withdraw_proposal(other, bruno)
    db.session.commit()
    assert tavolo_figures(tavolo) == figures(proposals=1, participants=2, register=1, answered=1, listed=2)
    assert_recount_agrees()


def test_pre_moderation_counts_only_what_is_approved(create_tavolo, create_user, facilitator):
    tavolo = create_tavolo(moderation="pre", facilitators=[facilitator])
    alice, bruno = create_user(), create_user()

    proposal = proposals_ops.submit_proposal(tavolo=tavolo, author=alice, title="In attesa", body="Testo")
    refused = proposals_ops.submit_proposal(tavolo=tavolo, author=bruno, title="Rifiutata", body="Testo")
    db.session.commit()
    assert tavolo_figures(tavolo) == figures()

    moderation.approve(proposal, facilitator)
    moderation.hide(refused, facilitator, reason="spam")
    comment = comments_ops.create_comment(proposal, bruno, body="In attesa anche io")
    db.session.commit()
    assert card(proposal) == (0, 0)
    assert tavolo_figures(tavolo) == figures(proposals=1, participants=1, register=1, listed=1)

    moderation.approve(comment, facilitator)
    db.session.commit()
    assert card(proposal) == (0, 1)
    assert tavolo_figures(tavolo) == figures(proposals=1, comments=1, participants=2, register=1, listed=1)
    assert_recount_agrees()


def test_flags_hiding_a_comment_and_merges_move_the_counters(
        app, create_tavolo, create_user, create_proposal, facilitator):
    tavolo = create_tavolo(facilitators=[facilitator])
    target = create_proposal(tavolo, create_user(), title="Destinazione")
    duplicate = create_proposal(tavolo, create_user(), title="Doppione")
    comment = comments_ops.create_comment(target, create_user(), body="Offensivo")
    db.session.commit()
    for _ in range(app.config.get("FLAGS_TO_HIDE", 3)):
        moderation.flag(comment, create_user(), reason="offensive")
    db.session.commit()
    assert card(target) == (0, 0)
    moderation.restore(comment, facilitator)
    db.session.commit()
    assert card(target) == (0, 1)

    proposals_ops.merge_proposal(duplicate, target, facilitator, motivation="Stessa richiesta.")
    db.session.commit()
    assert tavolo_figures(tavolo) == figures(proposals=2, comments=1, participants=3, register=2, answered=1,
                                             listed=2)
    assert_recount_agrees()


def test_a_ballot_cast_again_for_the_organisation_moves_the_participation(
        create_tavolo, create_user, create_organisation, create_proposal):
    tavolo = create_tavolo(vote_mode="organisation")
    org = create_organisation()
    first, second = create_user(organisation=org), create_user(organisation=org)
    proposal = create_proposal(tavolo, create_user())

    votes_ops.cast_vote(proposal, first, "for")
    db.session.commit()
    assert tavolo_figures(tavolo)["participants_count"] == 2
    votes_ops.cast_vote(proposal, second, "for")  # the organisation's one ballot, now cast by `second`
    db.session.commit()
    assert card(proposal) == (1, 0)
    kept = {user_id for _, user_id, _ in participations()}
    assert second.id in kept and first.id not in kept
    assert_recount_agrees()


def test_recount_repairs_counters_written_around_the_operations(runner, create_tavolo, create_user, create_proposal,
                                                               create_comment, create_vote):
    tavolo = create_tavolo()
    proposal = create_proposal(tavolo, create_user())
    create_comment(proposal, create_user())
    create_vote(proposal, create_user(), "for")
    db.session.execute(update(Proposal).values(votes_for_count=7, comments_count=0))
    db.session.execute(update(Tavolo).values(participants_count=0, comments_count=5))
    db.session.commit()

    result = runner.invoke(args=["recount"])

    assert result.exit_code == 0, result.output
    assert "Contatori corretti: 1 proposte, 1 tavoli." in result.output
    assert card(proposal) == (1, 1)
    assert tavolo_figures(tavolo) == figures(proposals=1, comments=1, participants=3, register=1, listed=1)
    again = runner.invoke(args=["recount"])
    assert "erano già tutti esatti" in again.output


def test_the_demo_built_through_the_operations_has_exact_counters(demo):
    assert sum(tavolo_figures(t)["proposals_count"] for t in db.session.scalars(select(Tavolo))) > 10
    assert_recount_agrees()
