"""The thread and the vote panel inside the real proposal and objective pages."""

from __future__ import annotations


def test_proposal_page_shows_thread_and_panel(client, cast, tavolo, create_proposal, create_comment, create_vote):
    proposal = create_proposal(tavolo, cast.representative, organisation=cast.organisation)
    create_comment(proposal, cast.participant, body="Un commento *visibile*.", stance="in_favour")
    create_vote(proposal, cast.member, "for")
    client.login(cast.participant)
    response = client.get(f"/proposte/{proposal.id}/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="commenti"' in html and "Un commento <em>visibile</em>." in html and "1 a favore" in html
    assert 'id="voti"' in html and "1 voto" in html and 'role="img"' in html
    assert f'action="/proposte/{proposal.id}/commenti"' in html
    assert f'action="/proposte/{proposal.id}/voto"' in html
    assert "css/comments.css" in html and "css/votes.css" in html


def test_objective_page_shows_thread_and_panel(client, cast, tavolo, create_objective, create_comment):
    objective = create_objective(tavolo)
    create_comment(objective, cast.representative, body="Obiettivo da rivedere.", stance="against")
    client.login(cast.participant)
    response = client.get(f"/tavoli/{tavolo.slug}/obiettivi/{objective.id}/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="commenti"' in html and "Obiettivo da rivedere." in html and "1 contrario" in html
    assert f'action="/obiettivi/{objective.id}/commenti"' in html
    assert f'action="/obiettivi/{objective.id}/voto"' in html
    assert "css/comments.css" in html and "css/votes.css" in html
