"""The proposal page's content is rendered once per content for visitors who are not signed in
(consulta/proposals/views.py `show`, consulta/core/fragments.py): what changes is on the page at the next
request, whoever changed it; signed-in people get the page rendered for them, with their forms."""

from __future__ import annotations

import re

import pytest

from consulta.core.fragments import fragments
from consulta.extensions import db

BODY = "proposals/_show_body.html"


@pytest.fixture
def bodies_rendered(renders_of):
    """How many times the page's content has been rendered so far."""
    return renders_of(BODY)


@pytest.fixture
def proposal(open_tavolo, cast, create_proposal, create_comment):
    proposal = create_proposal(open_tavolo, cast.representative, title="Un centro diurno a Narni",
                               organisation=cast.organisation)
    create_comment(proposal, cast.participant, body="Servirebbe anche il trasporto.")
    return proposal


def page(client, proposal) -> str:
    response = client.get(f"/proposte/{proposal.id}/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def kept(client, proposal, bodies_rendered) -> str:
    page(client, proposal)
    rendered = bodies_rendered()
    html = page(client, proposal)
    assert bodies_rendered() == rendered, "the second request rendered the content again"
    return html


def fresh(client, proposal) -> str:
    fragments().clear()
    return page(client, proposal)


def words(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_a_visitor_gets_the_content_rendered_once_and_it_is_the_fresh_page(client, proposal, bodies_rendered):
    html = kept(client, proposal, bodies_rendered)
    assert bodies_rendered() == 1
    assert "Servirebbe anche il trasporto." in html and "Auser Narni" in html
    assert "csrf_token" not in html
    assert html == fresh(client, proposal)


def _comment(proposal, cast, factories):
    factories["create_comment"](proposal, cast.admin, body="Il Comune può mettere a disposizione un pulmino.")


def _vote(proposal, cast, factories):
    factories["create_vote"](proposal, cast.participant)


def _answer(proposal, cast, factories):
    from consulta.proposals.operations import answer_proposal
    answer_proposal(proposal, cast.facilitator, outcome="approved", motivation="Entra nel piano come azione.")
    db.session.commit()


def _organisation_renamed(proposal, cast, factories):
    cast.organisation.name = "Auser Narni e Amelia"
    db.session.commit()


def _commenter_renamed(proposal, cast, factories):
    cast.participant.display_name = "Carla Cittadina Rossi"
    db.session.commit()


def _comment_hidden(proposal, cast, factories):
    from consulta.comments.models import Comment
    from consulta.moderation import operations
    comment = db.session.execute(db.select(Comment).where(Comment.proposal_id == proposal.id)).scalar_one()
    operations.hide(comment, cast.facilitator, reason="offensive")
    db.session.commit()


CHANGES = {
    "a comment": (_comment, "Il Comune può mettere a disposizione un pulmino."),
    "a vote": (_vote, "1 favorevole"),
    "an answer": (_answer, "Entra nel piano come azione."),
    "the organisation renamed": (_organisation_renamed, "Auser Narni e Amelia"),
    "the commenter renamed": (_commenter_renamed, "Carla Cittadina Rossi"),
    "a comment hidden": (_comment_hidden, "Nascosto dal moderatore"),
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_change_shows_at_the_next_request(change, client, proposal, cast, bodies_rendered, request):
    make, shown = CHANGES[change]
    factories = {name: request.getfixturevalue(name) for name in ("create_comment", "create_vote")}
    before = kept(client, proposal, bodies_rendered)
    assert shown not in words(before)

    make(proposal, cast, factories)
    after = page(client, proposal)
    assert shown in words(after)
    assert after == fresh(client, proposal)


def test_signed_in_people_get_their_own_page(client, login, proposal, cast, bodies_rendered):
    assert "Scrivi un commento" not in words(kept(client, proposal, bodies_rendered))
    login(cast.participant)
    mine = page(client, proposal)
    assert "csrf_token" in mine and "Segui la proposta" in words(mine)
    login(cast.facilitator)
    assert "Rispondi o unisci" in words(page(client, proposal))
    assert len(fragments()) == 1
