"""bench/: the generated data is what the app serves, and the yardstick shows the tavolo page's cards."""

import html
import re

import pytest
from sqlalchemy import func, select

from bench.data import generate
from bench.yardstick import create_app as yardstick_app
from consulta.comments.models import Comment
from consulta.extensions import db
from consulta.organisations.models import CATEGORIES, Organisation
from consulta.proposals.models import Proposal

# Smaller than the benchmark's 300 comments and 100 actions, for speed.
BUSY_COMMENTS = 40
PLAN_ACTIONS = 24
CARD_TITLE = re.compile(r'<h3 class="card-title[^"]*"><a href="/proposte/(\d+)/">([^<]+)</a>')


def _cards(page: str) -> list[tuple[str, str]]:
    return [(pid, html.unescape(title)) for pid, title in CARD_TITLE.findall(page)]


# The yardstick reads the database through its own connection: the data must be committed.
@pytest.mark.committing
def test_generated_consultation_is_served_and_the_yardstick_shows_the_same_cards(app, client, database_url):
    generated = generate(40, busy_comments=BUSY_COMMENTS, plan_actions=PLAN_ACTIONS)
    db.session.commit()

    tavolo_path = f"/tavoli/{generated.tavolo_slug}/"
    page = client.get(tavolo_path).get_data(as_text=True)
    assert "40 proposte" in page and "pagina 1 di 2" in page
    cards = _cards(page)
    assert len(cards) == 20
    newest = db.session.execute(
        select(Proposal.id).where(Proposal.tavolo_id == db.session.scalar(
            select(Proposal.tavolo_id).where(Proposal.id == generated.busy_proposal_id)))
        .order_by(Proposal.published_at.desc(), Proposal.id.desc()).limit(20)).scalars().all()
    assert [int(pid) for pid, _title in cards] == newest
    # Organisations of every category.
    assert set(db.session.scalars(select(Organisation.type).distinct())) == set(CATEGORIES) - {"citizen"}

    proposal = client.get(f"/proposte/{generated.busy_proposal_id}/")
    assert proposal.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Comment).where(
        Comment.proposal_id == generated.busy_proposal_id)) == BUSY_COMMENTS
    # Every comment, bar the hidden and deleted ones, or their placeholders.
    assert proposal.get_data(as_text=True).count('<article class="comment" id="commento-') >= BUSY_COMMENTS - 5

    plan = client.get(f"/piano/{generated.plan_id}/")
    assert plan.status_code == 200
    assert len(set(re.findall(r'<article class="[^"]*plan-action" id="(azione-\d+)"', plan.get_data(as_text=True)))) \
        == PLAN_ACTIONS

    yardstick = yardstick_app(database_url)
    try:
        for query in ("", "?page=2"):
            ours = _cards(client.get(tavolo_path + query).get_data(as_text=True))
            theirs = _cards(yardstick.test_client().get(tavolo_path + query).get_data(as_text=True))
            assert len(ours) == 20 and theirs == ours
    finally:
        yardstick.extensions["yardstick_engine"].dispose()
