"""The thread and the vote panel inside the real proposal and objective pages."""

from __future__ import annotations

import re

from sqlalchemy import select

from consulta.comments.models import Comment
from consulta.extensions import db


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


def test_a_long_thread_is_read_a_page_at_a_time_and_a_new_comment_is_shown_where_it_lands(
        client, app, cast, tavolo, create_proposal, create_comment):
    app.config["COMMENTS_PER_PAGE"] = 3
    try:
        proposal = create_proposal(tavolo, cast.representative)
        first = create_comment(proposal, cast.representative, body="Commento 0", commit=False)
        create_comment(proposal, cast.member, body="Risposta al primo", parent=first, commit=False)
        for n in range(1, 7):
            create_comment(proposal, cast.member, body=f"Commento {n}", commit=False)
        db.session.commit()

        pages, url = [], f"/proposte/{proposal.id}/"
        while url:
            html = client.get(url).get_data(as_text=True)
            pages.append(re.findall(r"<p>(Commento \d|Risposta al primo)</p>", html))
            found = re.search(r'<a href="([^"]+)#commenti" rel="next">Commenti successivi', html)
            url = found.group(1).replace("&amp;", "&") if found else None
            if len(pages) > 1:
                assert "Torna ai primi commenti" in html
        assert pages == [["Commento 0", "Risposta al primo", "Commento 1", "Commento 2"],
                         ["Commento 3", "Commento 4", "Commento 5"], ["Commento 6"]]
        # The count is the whole thread's.
        assert 'comment-count">8<' in html

        client.login(cast.participant)
        response = client.post(f"/proposte/{proposal.id}/commenti", data={"body": "Ultimo commento"})
        location = response.headers["Location"]
        assert "?dopo=" in location and location.endswith(f"#commento-{proposal_comment_ids(proposal)[-1]}")
        assert "<p>Ultimo commento</p>" in client.get(location.split("#")[0]).get_data(as_text=True)
        assert client.get(f"/proposte/{proposal.id}/?dopo=non-valido").status_code == 400
    finally:
        app.config["COMMENTS_PER_PAGE"] = 50


def proposal_comment_ids(proposal) -> list[int]:
    return list(db.session.scalars(select(Comment.id).where(Comment.proposal_id == proposal.id).order_by(Comment.id)))
