"""Factories of the proposals tests: objectives, proposals, representatives, the cast of a tavolo."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from consulta.core.db import utcnow
from consulta.core.text import render_markdown
from consulta.extensions import db


@pytest.fixture
def create_objective(app):
    from consulta.tavoli.models import Objective

    def factory(tavolo, *, title="Più assistenza domiciliare", body="Testo dell'obiettivo.", status="published"):
        objective = Objective(
            tavolo_id=tavolo.id, title=title, body=body, body_html=render_markdown(body), status=status,
            published_at=utcnow() if status != "draft" else None,
        )
        db.session.add(objective)
        db.session.commit()
        return objective

    return factory


@pytest.fixture
def create_proposal(app):
    """A proposal as the tests need it; states other than submitted/published go through the table."""
    from consulta.proposals.models import PROPOSAL_TRANSITIONS, Proposal

    def factory(tavolo, author, *, title="Un centro diurno per gli anziani", body="Apriamo un **centro diurno**.",
                state="published", visibility=None, hidden_reason=None, organisation=None, objective=None,
                created_minutes_ago: float = 0, facilitator=None):
        created = utcnow() - timedelta(minutes=created_minutes_ago)
        published = state != "submitted"
        proposal = Proposal(
            tavolo_id=tavolo.id, author_id=author.id if author else None, title=title, body=body,
            body_html=render_markdown(body), organisation_id=organisation.id if organisation else None,
            category=organisation.type if organisation else "citizen",
            objective_id=objective.id if objective else None,
            state="published" if published else "submitted",
            visibility=visibility or ("visible" if published else "pending"), hidden_reason=hidden_reason,
            created_at=created, published_at=created if published else None,
        )
        db.session.add(proposal)
        db.session.flush()
        if state not in ("submitted", "published"):
            if state in ("under_review", "approved", "partially_approved", "rejected"):
                PROPOSAL_TRANSITIONS.apply(proposal, "under_review", facilitator)
            if state in ("approved", "partially_approved", "rejected"):
                proposal.answer = "Motivazione della risposta."
                proposal.answer_html = render_markdown(proposal.answer)
                proposal.answered_by_id = facilitator.id
                proposal.answered_at = utcnow()
                PROPOSAL_TRANSITIONS.apply(proposal, state, facilitator, context={"answer": proposal.answer})
            if state == "withdrawn":
                PROPOSAL_TRANSITIONS.apply(proposal, "withdrawn", author)
        db.session.commit()
        return proposal

    return factory


@dataclass
class Cast:
    """Everyone a permission table needs, around one organisation."""

    organisation: object
    citizen: object
    unverified: object
    blocked: object
    representative: object
    facilitator: object
    admin: object

    def get(self, role):
        return None if role == "anonymous" else getattr(self, {"participant": "citizen"}.get(role, role))


@pytest.fixture
def cast(create_user, create_organisation):
    org = create_organisation(name="Auser Narni", type="volunteer")
    return Cast(
        organisation=org,
        citizen=create_user(email="citizen@example.org", display_name="Carla Cittadina"),
        unverified=create_user(email="unverified@example.org", display_name="Ugo Nonverificato", verified=False),
        blocked=create_user(email="blocked@example.org", display_name="Bruno Bloccato",
                            blocked_reason="Messaggi offensivi"),
        representative=create_user(email="rep@example.org", display_name="Rita Rappresentante", organisation=org),
        facilitator=create_user(email="facilitator@example.org", display_name="Fabio Facilitatore",
                                role="facilitator"),
        admin=create_user(email="admin@example.org", display_name="Ufficio di Piano", role="admin"),
    )


@pytest.fixture
def open_tavolo(create_tavolo, cast):
    """An open, post-moderated tavolo facilitated by the cast's facilitator."""
    return create_tavolo(slug="anziani", title="Anziani e non autosufficienza", facilitators=[cast.facilitator])


@pytest.fixture
def login_as(client):
    """login_as(user) logs the client in; login_as(None) leaves it anonymous."""

    def do(user):
        if user is not None:
            client.login(user)
        return client

    return do


@pytest.fixture
def count_rows(app):
    def count(model, *conditions):
        from sqlalchemy import func, select

        return db.session.execute(select(func.count()).select_from(model).where(*conditions)).scalar_one()

    return count


@pytest.fixture
def add_votes(app):
    """Ballots on a proposal (no voter accounts needed: the tallies read the rows)."""
    from consulta.votes.models import Vote

    counter = iter(range(1, 1_000_000))

    def add(proposal, *, for_=0, against=0, abstain=0, category="citizen"):
        for value, n in (("for", for_), ("against", against), ("abstain", abstain)):
            for _ in range(n):
                db.session.add(Vote(tavolo_id=proposal.tavolo_id, proposal_id=proposal.id,
                                    ballot_key=f"person:{next(counter)}", category=category, value=value))
        db.session.commit()

    return add


@pytest.fixture
def add_comments(app):
    from consulta.comments.models import Comment

    def add(proposal, author, *, visible=0, hidden=0, deleted=0):
        rows = [("visible", None)] * visible + [("hidden", None)] * hidden + [("visible", utcnow())] * deleted
        for visibility, deleted_at in rows:
            db.session.add(Comment(
                tavolo_id=proposal.tavolo_id, proposal_id=proposal.id, author_id=author.id, body="Commento",
                body_html="<p>Commento</p>", visibility=visibility, deleted_at=deleted_at,
                hidden_reason="spam" if visibility == "hidden" else None))
        db.session.commit()

    return add
