"""The thread and the vote panel inside the real proposal and objective pages."""

from __future__ import annotations

import pytest


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


# --------------------------------------------------------------------------- long discussions in chunks

def _discussion(tavolo, cast, create_proposal, create_comment, tops: int):
    """A proposal with `tops` top-level comments, each with one reply."""
    proposal = create_proposal(tavolo, cast.representative)
    threads = []
    for i in range(tops):
        top = create_comment(proposal, cast.participant, body=f"Commento numero {i}.", commit=False)
        threads.append((top, create_comment(proposal, cast.member, body=f"Risposta al {i}.", parent=top,
                                            commit=False)))
    return proposal, threads


def test_a_long_discussion_is_read_in_chunks_without_javascript(client, monkeypatch, app, cast, tavolo,
                                                               create_proposal, create_comment):
    monkeypatch.setitem(app.config, "COMMENTS_PER_CHUNK", 3)
    proposal, threads = _discussion(tavolo, cast, create_proposal, create_comment, 7)

    first = client.get(f"/proposte/{proposal.id}/").get_data(as_text=True)
    assert "Commento numero 2." in first and "Risposta al 2." in first and "Commento numero 3." not in first
    assert 'comment-count">14<' in first  # the count is the whole discussion's
    assert "Mostra i commenti precedenti" not in first
    more = f"/proposte/{proposal.id}/?commenti_dopo={threads[2][0].id}#commento-{threads[3][0].id}"
    assert f'href="{more}"' in first and ">Mostra altri commenti<" in first

    second = client.get(more.split("#")[0]).get_data(as_text=True)
    assert "Commento numero 2." not in second and "Commento numero 3." in second and "Risposta al 5." in second
    assert f'href="/proposte/{proposal.id}/#commento-{threads[2][0].id}"' in second  # back to the first chunk
    assert "Mostra i commenti precedenti" in second

    last = client.get(f"/proposte/{proposal.id}/?commenti_dopo={threads[5][0].id}").get_data(as_text=True)
    assert "Commento numero 6." in last and "Commento numero 5." not in last
    assert "Mostra altri commenti" not in last
    assert f'href="/proposte/{proposal.id}/?commenti_dopo={threads[2][0].id}#commento-{threads[5][0].id}"' in last


def test_every_comment_has_a_permalink_to_its_chunk(client, monkeypatch, app, cast, tavolo, create_proposal,
                                                   create_comment, create_objective):
    monkeypatch.setitem(app.config, "COMMENTS_PER_CHUNK", 3)
    proposal, threads = _discussion(tavolo, cast, create_proposal, create_comment, 7)
    reply = threads[4][1]

    html = client.get(f"/proposte/{proposal.id}/").get_data(as_text=True)
    assert f'href="/commenti/{threads[0][1].id}"' in html and "link al commento" in html

    response = client.get(f"/commenti/{reply.id}")
    assert response.status_code == 302
    location = f"/proposte/{proposal.id}/?commenti_dopo={threads[3][0].id}#commento-{reply.id}"
    assert response.headers["Location"] == location
    assert f'id="commento-{reply.id}"' in client.get(location.split("#")[0]).get_data(as_text=True)
    # In the first chunk the address is the page itself.
    assert client.get(f"/commenti/{threads[1][0].id}").headers["Location"] == (
        f"/proposte/{proposal.id}/#commento-{threads[1][0].id}")
    objective = create_objective(tavolo)
    on_objective = create_comment(objective, cast.participant)
    assert client.get(f"/commenti/{on_objective.id}").headers["Location"] == (
        f"/tavoli/{tavolo.slug}/obiettivi/{objective.id}/#commento-{on_objective.id}")


def test_a_new_comment_in_a_long_discussion_leads_to_its_chunk(client, monkeypatch, app, cast, tavolo,
                                                               create_proposal, create_comment):
    monkeypatch.setitem(app.config, "COMMENTS_PER_CHUNK", 3)
    proposal, threads = _discussion(tavolo, cast, create_proposal, create_comment, 4)
    client.login(cast.participant)

    response = client.post(f"/proposte/{proposal.id}/commenti", data={"body": "Ultimo commento della serie."})

    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(f"/proposte/{proposal.id}/?commenti_dopo={threads[3][0].id}#commento-")
    assert "Ultimo commento della serie." in client.get(location.split("#")[0]).get_data(as_text=True)


@pytest.mark.parametrize("after", ["abc", "0", "99999999999", "2147483647", "reply", "other", "pending"])
def test_a_chunk_after_a_comment_that_is_not_there_is_404(client, monkeypatch, app, cast, tavolo, create_tavolo,
                                                          create_proposal, create_comment, after):
    proposal, threads = _discussion(tavolo, cast, create_proposal, create_comment, 2)
    elsewhere = create_proposal(tavolo, cast.representative, title="Un'altra proposta")
    pre = create_tavolo(slug="pre-moderato", moderation="pre")
    pending_on = create_proposal(pre, cast.representative, title="Proposta moderata")
    keys = {"reply": threads[0][1].id, "other": create_comment(elsewhere, cast.participant).id,
            "pending": create_comment(pending_on, cast.participant, visibility="pending").id}
    target = pending_on if after == "pending" else proposal

    response = client.get(f"/proposte/{target.id}/?commenti_dopo={keys.get(after, after)}")

    assert response.status_code == 404


def test_a_comment_awaiting_moderation_has_no_public_permalink(client, cast, create_tavolo, create_proposal,
                                                               create_comment):
    pre = create_tavolo(slug="pre-moderato", moderation="pre")
    proposal = create_proposal(pre, cast.representative)
    pending = create_comment(proposal, cast.participant, visibility="pending")
    assert client.get(f"/commenti/{pending.id}").status_code == 404
    assert client.get("/commenti/2147483647").status_code == 404
    client.login(cast.participant)
    assert client.get(f"/commenti/{pending.id}").headers["Location"] == (
        f"/proposte/{proposal.id}/#commento-{pending.id}")
