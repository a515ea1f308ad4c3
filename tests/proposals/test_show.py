"""The permalink page of a proposal, and following it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from consulta.core.db import utcnow
from consulta.extensions import db
from consulta.tavoli.models import Follow

LABELS = {"published": "Pubblicata", "under_review": "In valutazione", "approved": "Accolta",
          "partially_approved": "Accolta in parte", "rejected": "Non accolta", "withdrawn": "Ritirata"}
ROLES = ["anonymous", "unverified", "blocked", "participant", "representative", "facilitator", "admin", "author"]


def page(client, proposal):
    return client.get(f"/proposte/{proposal.id}/")


def user_for(cast, role, author):
    return author if role == "author" else cast.get(role)


def test_the_permalink_shows_what_a_reader_needs(cast, open_tavolo, create_objective, create_proposal, client):
    objective = create_objective(open_tavolo, title="Più assistenza domiciliare")
    proposal = create_proposal(open_tavolo, cast.representative, title="Trasporto sociale il sabato",
                               body="Un pulmino *attrezzato*.", organisation=cast.organisation, objective=objective)

    response = page(client, proposal)

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count("<h1") == 1 and "Trasporto sociale il sabato</h1>" in html
    assert "Pubblicata" in html and "proposal-state-published" in html
    assert "Auser Narni" in html and "Organizzazione di volontariato" in html
    assert "Rita Rappresentante" in html
    assert "<em>attrezzato</em>" in html
    assert "Più assistenza domiciliare" in html
    assert f'href="/tavoli/{open_tavolo.slug}/"' in html and "Anziani e non autosufficienza" in html
    assert "Presentata il" in html and "Pubblicata il" in html
    for stylesheet in ("css/proposals.css", "css/comments.css", "css/votes.css"):
        assert stylesheet in html
    assert 'aria-label="Percorso di navigazione"' in html
    # Anonymous readers are invited to log in, not shown buttons they cannot use.
    assert "Segui la proposta" not in html and "Modifica" not in html and "Ritira la proposta" not in html


def test_dates_are_shown_in_rome_time(cast, open_tavolo, create_proposal, client):
    from datetime import UTC, datetime

    proposal = create_proposal(open_tavolo, cast.citizen)
    proposal.created_at = proposal.published_at = datetime(2025, 7, 1, 22, 30, tzinfo=UTC)
    db.session.commit()

    html = page(client, proposal).get_data(as_text=True)

    assert "2 luglio 2025, 00:30" in html  # CEST is UTC+2


def test_a_citizen_proposal_shows_the_citizen_chip(cast, open_tavolo, create_proposal, client):
    html = page(client, create_proposal(open_tavolo, cast.citizen)).get_data(as_text=True)
    assert "Carla Cittadina" in html and "cittadino/a" in html


@pytest.mark.parametrize("proposal_id", ["987654", "abc", "0", "-1", "1.5", "99999999999999999999999"])
def test_unknown_or_malformed_ids_are_404(client, app, proposal_id):
    assert client.get(f"/proposte/{proposal_id}/").status_code == 404


PENDING_EXPECTED = {"anonymous": 404, "unverified": 404, "blocked": 404, "participant": 404,
                    "representative": 404, "facilitator": 200, "admin": 200, "author": 200}


@pytest.mark.parametrize("role", ROLES)
def test_a_pending_proposal_is_visible_only_to_its_author_and_moderators(
        cast, create_tavolo, create_proposal, create_user, login_as, role):
    tavolo = create_tavolo(slug="t", moderation="pre", facilitators=[cast.facilitator])
    author = create_user(display_name="Autrice")
    proposal = create_proposal(tavolo, author, title="Proposta in attesa", state="submitted")

    response = page(login_as(user_for(cast, role, author)), proposal)

    assert response.status_code == PENDING_EXPECTED[role]
    html = response.get_data(as_text=True)
    if response.status_code == 404:
        assert "Proposta in attesa" not in html
    else:
        assert "Proposta in attesa" in html and "In attesa di moderazione" in html


HIDDEN_READS_TEXT = {"anonymous": False, "unverified": False, "blocked": False, "participant": False,
                     "representative": False, "facilitator": True, "admin": True, "author": True}


@pytest.mark.parametrize("role", ROLES)
def test_a_hidden_proposal_shows_a_placeholder_with_the_reason(
        cast, open_tavolo, create_proposal, create_user, login_as, role):
    author = create_user(display_name="Autrice")
    proposal = create_proposal(open_tavolo, author, title="Titolo offensivo", body="Testo con dati personali",
                               visibility="hidden", hide_reason="personal_data")

    response = page(login_as(user_for(cast, role, author)), proposal)

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Nascosta dal moderatore" in html and "contiene dati personali di terzi" in html
    assert ("Testo con dati personali" in html) is HIDDEN_READS_TEXT[role]
    assert ("Titolo offensivo" in html) is HIDDEN_READS_TEXT[role]


def test_a_proposal_of_a_draft_tavolo_is_404_for_the_public(cast, create_tavolo, create_proposal, login_as):
    tavolo = create_tavolo(slug="bozza", phase="draft", facilitators=[cast.facilitator])
    proposal = create_proposal(tavolo, cast.citizen)
    assert page(login_as(None), proposal).status_code == 404
    assert page(login_as(cast.facilitator), proposal).status_code == 200


def test_each_state_has_its_own_badge_with_text(cast, open_tavolo, create_proposal, client):
    classes = set()
    for state in ["published", "under_review", "approved", "partially_approved", "rejected", "withdrawn"]:
        proposal = create_proposal(open_tavolo, cast.citizen, state=state, facilitator=cast.facilitator)
        html = page(client, proposal).get_data(as_text=True)
        css = f"proposal-state-{state.replace('_', '-')}"
        assert css in html and LABELS[state] in html
        classes.add(css)
    assert len(classes) == 6


def test_an_answered_proposal_shows_the_answer(cast, open_tavolo, create_proposal, client):
    proposal = create_proposal(open_tavolo, cast.citizen, state="partially_approved", facilitator=cast.facilitator)

    html = page(client, proposal).get_data(as_text=True)

    assert "Risposta del tavolo" in html and "Motivazione della risposta." in html
    assert "Accolta in parte" in html and "Fabio Facilitatore" in html


def test_a_merged_proposal_links_to_its_target_and_the_target_lists_it(cast, open_tavolo, create_proposal, client):
    from consulta.core.text import render_markdown
    from consulta.proposals.models import PROPOSAL_TRANSITIONS

    target = create_proposal(open_tavolo, cast.citizen, title="Proposta principale")
    duplicate = create_proposal(open_tavolo, cast.representative, title="Proposta doppia")
    with db.session.no_autoflush:  # the merge columns and the state must reach the database together
        duplicate.merged_into_id = target.id
        duplicate.answer = "Stesso contenuto."
        duplicate.answer_html = render_markdown(duplicate.answer)
        duplicate.answered_by_id = cast.facilitator.id
        duplicate.answered_at = utcnow()
        PROPOSAL_TRANSITIONS.apply(duplicate, "merged", cast.facilitator, context={"answer": duplicate.answer})
    db.session.commit()

    html = page(client, duplicate).get_data(as_text=True)
    assert "Unita ad altra proposta" in html and f'href="/proposte/{target.id}/"' in html
    assert "Proposta principale" in html
    target_html = page(client, target).get_data(as_text=True)
    assert "Proposte unite a questa" in target_html and f'href="/proposte/{duplicate.id}/"' in target_html


def test_an_offline_proposal_shows_its_channel_and_protocol_number(cast, open_tavolo, create_proposal, client):
    proposal = create_proposal(open_tavolo, None, title="Lettera del comitato", channel="paper",
                               protocol_number="2025/1234", author_name="Comitato di quartiere",
                               facilitator=cast.facilitator)

    html = page(client, proposal).get_data(as_text=True)

    assert "Pervenuta in forma cartacea — prot. n. 2025/1234" in html
    assert "Comitato di quartiere" in html


# --------------------------------------------------------------------------- following

def follows(user, proposal) -> int:
    return len(db.session.execute(
        select(Follow).where(Follow.user_id == user.id, Follow.proposal_id == proposal.id)).all())


# A statement of its own for the layout's Ambito, the unread notifications, or the follow of the proposal.
OWN_HEADER_STATEMENT = re.compile(r"\s*SELECT (ambito\.id|count\(\*\) AS count_1\s+FROM notification|follow\.id)")


def test_the_header_of_the_proposal_page_comes_with_the_proposal(cast, open_tavolo, create_proposal, create_comment,
                                                                  create_follow, login_as, count_queries):
    """The layout's Ambito and unread notifications, and whether the reader follows the proposal, are read in
    the proposal's statement; the badge follows what they read, from one request to the next."""
    proposal = create_proposal(open_tavolo, cast.representative, title="Trasporto sociale il sabato")
    create_follow(cast.citizen, proposal=proposal)
    create_comment(proposal, cast.facilitator, body="Ne parliamo al prossimo incontro.")
    create_comment(proposal, cast.representative, body="Grazie.")
    client = login_as(cast.citizen)
    page(client, proposal)
    with count_queries() as counter:
        html = page(client, proposal).get_data(as_text=True)
    assert '2<span class="visually-hidden"> non lette</span>' in html and "Non seguire più" in html
    assert not [statement for statement in counter.statements if OWN_HEADER_STATEMENT.match(statement)]

    client.post("/notifiche/lette")
    html = page(client, proposal).get_data(as_text=True)
    assert "non lette</span>" not in html and "Non seguire più" in html


def test_follow_and_unfollow_are_idempotent(cast, open_tavolo, create_proposal, login_as):
    proposal = create_proposal(open_tavolo, cast.representative)
    client = login_as(cast.citizen)
    assert "Segui la proposta" in page(client, proposal).get_data(as_text=True)

    for _ in range(2):
        response = client.post(f"/proposte/{proposal.id}/segui")
        assert response.status_code == 302 and response.headers["Location"] == f"/proposte/{proposal.id}/"
    assert follows(cast.citizen, proposal) == 1
    html = client.get(f"/proposte/{proposal.id}/").get_data(as_text=True)
    assert "Ora segui questa proposta" in html and "Non seguire più" in html

    for _ in range(2):
        assert client.post(f"/proposte/{proposal.id}/non-seguire").status_code == 302
    assert follows(cast.citizen, proposal) == 0
    html = client.get(f"/proposte/{proposal.id}/").get_data(as_text=True)
    assert "Non segui più questa proposta." in html and "Segui la proposta" in html


FOLLOW_EXPECTED = {"anonymous": 302, "unverified": 403, "blocked": 403, "participant": 302,
                   "representative": 302, "facilitator": 302, "admin": 302}


@pytest.mark.parametrize("role", list(FOLLOW_EXPECTED))
def test_who_may_follow_a_proposal(cast, open_tavolo, create_proposal, create_user, login_as, role):
    proposal = create_proposal(open_tavolo, create_user())
    user = cast.get(role)

    response = login_as(user).post(f"/proposte/{proposal.id}/segui")

    assert response.status_code == FOLLOW_EXPECTED[role]
    if role == "anonymous":
        assert "/accedi" in response.headers["Location"]
    elif response.status_code == 403:
        assert "indirizzo e-mail verificato" in response.get_data(as_text=True)
        assert follows(user, proposal) == 0
    else:
        assert follows(user, proposal) == 1


def test_nobody_follows_a_proposal_they_may_not_see(cast, create_tavolo, create_proposal, create_user, login_as):
    tavolo = create_tavolo(slug="t", moderation="pre")
    proposal = create_proposal(tavolo, create_user(), state="submitted")
    client = login_as(cast.citizen)
    assert client.post(f"/proposte/{proposal.id}/segui").status_code == 404
    assert client.post(f"/proposte/{proposal.id}/non-seguire").status_code == 404
    assert follows(cast.citizen, proposal) == 0


def test_follow_needs_a_csrf_token_and_a_post(cast, open_tavolo, create_proposal, login_as):
    proposal = create_proposal(open_tavolo, cast.representative)
    client = login_as(cast.citizen)
    assert client.post(f"/proposte/{proposal.id}/segui", csrf=False).status_code == 400
    assert client.get(f"/proposte/{proposal.id}/segui").status_code == 405
    assert follows(cast.citizen, proposal) == 0
