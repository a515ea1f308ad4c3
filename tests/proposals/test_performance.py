"""The tavolo page and the proposal page cost the same number of queries with 10 or 1,000 proposals, and
a deep page of the tavolo's list, reached by its "next page" link, costs what the first page costs."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from consulta.comments.models import Comment
from consulta.core.db import utcnow
from consulta.extensions import db
from consulta.moderation.operations import hide
from consulta.proposals.models import Proposal
from consulta.proposals.operations import merge_proposal
from consulta.stats.recount import recount
from consulta.votes.models import Vote
from tests.proposals.conftest import make_cast


def fill(tavolo, authors, organisation, objective, count: int) -> int:
    """`count` published proposals, each with comments and votes, inserted in bulk; returns the newest id."""
    now = utcnow()
    rows = []
    for n in range(count):
        author = authors[n % len(authors)]
        on_behalf = n % 3 == 0
        rows.append({
            "tavolo_id": tavolo.id, "author_id": author.id, "title": f"Proposta {n}",
            "body": f"Testo della proposta {n}", "body_html": f"<p>Testo della proposta {n}</p>",
            "organisation_id": organisation.id if on_behalf else None,
            "category": organisation.type if on_behalf else "citizen",
            "objective_id": objective.id if n % 2 else None,
            "state": "published", "visibility": "hidden" if n % 7 == 0 else "visible",
            "hidden_reason": "spam" if n % 7 == 0 else None,
            "created_at": now - timedelta(minutes=count - n), "published_at": now - timedelta(minutes=count - n),
        })
    db.session.execute(insert(Proposal), rows)
    ids = db.session.execute(
        select(Proposal.id).where(Proposal.tavolo_id == tavolo.id).order_by(Proposal.id)).scalars().all()
    comments, votes = [], []
    for pid in ids:
        for k, author in enumerate(authors[:3]):
            comments.append({"tavolo_id": tavolo.id, "proposal_id": pid, "author_id": author.id,
                             "body": "Commento", "body_html": "<p>Commento</p>", "stance": "in_favour",
                             "visibility": "visible", "created_at": now - timedelta(seconds=k)})
        for k, value in enumerate(("for", "for", "against", "abstain")):
            votes.append({"tavolo_id": tavolo.id, "proposal_id": pid, "ballot_key": f"person:{authors[k].id}",
                          "voter_id": authors[k].id, "category": "citizen", "value": value})
    db.session.execute(insert(Comment), comments)
    db.session.execute(insert(Vote), votes)
    recount()  # rows inserted in bulk, around the operations that keep the counters
    db.session.commit()
    return ids[-1]


def moderate(tavolo, facilitator) -> None:
    """What the tavolo page's moderation log shows of each kind: an act on a proposal, one on a comment, and a
    merge, which names its target too (a proposal no other act is about)."""
    first, second, third, fourth = db.session.execute(
        select(Proposal).where(Proposal.tavolo_id == tavolo.id, Proposal.visibility == "visible")
        .order_by(Proposal.id).limit(4)).scalars()
    comment = db.session.execute(
        select(Comment).where(Comment.proposal_id == fourth.id).order_by(Comment.id).limit(1)).scalar_one()
    hide(first, facilitator, reason="spam")
    hide(comment, facilitator, reason="offensive")
    # Into an older proposal: the scene puts the rows back in the order of their ids.
    merge_proposal(third, second, facilitator, motivation="La stessa richiesta: la seguiamo là.")
    db.session.commit()


@pytest.fixture
def world(scene, create_user, create_organisation, create_tavolo, create_objective):
    """The cast and two tavoli, of 10 and of 1,000 proposals: built once per worker and database (seconds),
    inserted again for the other tests. Returns (cast, two_tavoli)."""

    def build():
        cast = make_cast(create_user, create_organisation)
        authors = [cast.citizen, cast.representative, *(create_user() for _ in range(3))]
        small = create_tavolo(slug="piccolo", facilitators=[cast.facilitator])
        large = create_tavolo(slug="grande", facilitators=[cast.facilitator])
        small_last = fill(small, authors, cast.organisation, create_objective(small), 10)
        large_last = fill(large, authors, cast.organisation, create_objective(large), 1000)
        moderate(small, cast.facilitator)
        moderate(large, cast.facilitator)
        return cast, ((small, small_last), (large, large_last))

    return scene("proposals-performance", build)


@pytest.fixture
def cast(world):
    """The world's cast (it replaces tests/proposals/conftest.py's in this module)."""
    return world[0]


@pytest.fixture
def two_tavoli(world):
    return world[1]


def queries_for(client, count_queries, url) -> int:
    client.get(url)  # warm up: the first request loads what every request loads once
    with count_queries() as counter:
        response = client.get(url)
    assert response.status_code == 200
    return counter.count


NEXT_LINK = re.compile(r'<a href="([^"]+)" rel="next">')


def next_link(client, url) -> str:
    """The "Pagina successiva" link of a page of the tavolo's list."""
    found = NEXT_LINK.search(client.get(url).get_data(as_text=True))
    assert found is not None, url
    return html.unescape(found.group(1)).split("#")[0]


# Anonymous: the tavolo (with its plan, facilitators, counters, and the layout's Ambito), its objectives, the
# page of proposals, the moderation log with the proposals it is about, the comments it is about, the
# meetings, the members. Signed in, besides: the user (whether they follow the tavolo and their unread
# notifications come with the tavolo).
TAVOLO_PAGE_STATEMENTS = {"anonymous": 7, "participant": 8, "facilitator": 8}


# Anonymous: the proposal (with its tavolo, facilitators, people, objective, and the layout's Ambito), those
# merged into it, the discussion in chunks (its top-level comments, their replies, the stances), the ballots,
# the decision of the minutes. Signed in, besides: the user (whether they follow the proposal and their
# unread notifications come with it), the comments they flagged, their membership, their ballot, whether they
# flagged the proposal; a moderator also reads its open flags.
PROPOSAL_PAGE_STATEMENTS = {"anonymous": 7, "participant": 12, "facilitator": 13}


@pytest.mark.parametrize("viewer", ["anonymous", "participant", "facilitator"])
def test_the_proposal_page_costs_the_same_whatever_the_data_size(cast, two_tavoli, client, count_queries, viewer):
    (_, small_id), (_, large_id) = two_tavoli
    if viewer != "anonymous":
        client.login(cast.get(viewer))

    small = queries_for(client, count_queries, f"/proposte/{small_id}/")
    large = queries_for(client, count_queries, f"/proposte/{large_id}/")

    assert small == large == PROPOSAL_PAGE_STATEMENTS[viewer]


@pytest.mark.parametrize("viewer", ["anonymous", "participant", "facilitator"])
def test_the_tavolo_page_costs_the_same_whatever_the_data_size(cast, two_tavoli, client, count_queries, viewer):
    (small_tavolo, _), (large_tavolo, _) = two_tavoli
    if viewer != "anonymous":
        client.login(cast.get(viewer))

    # per_page=2 gives the small tavolo a second page too.
    for params in ["", "?ordine=sostegno", "?ordine=discusse&q=proposta", "?categoria=citizen&page=2&per_page=2"]:
        small = queries_for(client, count_queries, f"/tavoli/{small_tavolo.slug}/{params}")
        large = queries_for(client, count_queries, f"/tavoli/{large_tavolo.slug}/{params}")
        assert small == large == TAVOLO_PAGE_STATEMENTS[viewer], params
        html = client.get(f"/tavoli/{large_tavolo.slug}/{params}").get_data(as_text=True)
        assert "voti a favore" in html


@pytest.mark.parametrize("viewer", ["anonymous", "participant", "facilitator"])
@pytest.mark.parametrize("order", ["recenti", "sostegno", "discusse"])
def test_a_deep_page_by_its_next_link_costs_what_the_first_page_costs(cast, two_tavoli, client, count_queries,
                                                                    viewer, order):
    (small_tavolo, _), (large_tavolo, _) = two_tavoli
    if viewer != "anonymous":
        client.login(cast.get(viewer))
    # 4 a page: the small tavolo has 3 pages, the large one 250.
    costs = []
    for tavolo, before_last in ((small_tavolo, 2), (large_tavolo, 240)):
        first = f"/tavoli/{tavolo.slug}/?ordine={order}&per_page=4"
        deep = next_link(client, f"{first}&page={before_last}")
        assert "dopo=" in deep and "&page=" not in deep
        page = client.get(deep).get_data(as_text=True)
        assert f"pagina {before_last + 1} di" in page
        costs.append((queries_for(client, count_queries, first), queries_for(client, count_queries, deep)))
    assert costs[0] == costs[1]
    first_page, deep_page = costs[1]
    assert first_page == deep_page == TAVOLO_PAGE_STATEMENTS[viewer] <= 8


def test_the_listing_alone_costs_a_fixed_number_of_queries(cast, two_tavoli, app, count_queries):
    """The part of the tavolo page this domain owns: the objectives, then the page with its counters."""
    from flask import render_template
    from flask_login import AnonymousUserMixin

    from consulta.proposals.listing import proposal_listing

    costs = []
    for tavolo, _ in two_tavoli:
        with app.test_request_context(f"/tavoli/{tavolo.slug}/?ordine=sostegno"):
            from flask import request

            with count_queries() as counter:
                listing = proposal_listing(tavolo, request.args, AnonymousUserMixin())
                render_template("proposals/_listing.html", listing=listing, tavolo=tavolo)
            costs.append(counter.count)
    assert costs[0] == costs[1] == 3  # the objectives, the page; the Ambito of every template
