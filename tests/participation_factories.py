"""Factories shared by the comments and votes tests: objectives, proposals, follows, comments, votes
and the cast of people a permission table needs. Imported by tests/comments and tests/votes conftests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select

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
    """A proposal stored directly (submitted or published; withdrawn through the transition table)."""
    from consulta.proposals.models import PROPOSAL_TRANSITIONS, Proposal

    def factory(tavolo, author, *, title="Un centro diurno per gli anziani", body="Apriamo un **centro diurno**.",
                state="published", visibility=None, organisation=None, objective=None):
        published = state != "submitted"
        proposal = Proposal(
            tavolo_id=tavolo.id, author_id=author.id if author else None, title=title, body=body,
            body_html=render_markdown(body), organisation_id=organisation.id if organisation else None,
            category=organisation.type if organisation else "citizen",
            objective_id=objective.id if objective else None,
            state="published" if published else "submitted",
            visibility=visibility or ("visible" if published else "pending"),
            published_at=utcnow() if published else None,
        )
        db.session.add(proposal)
        db.session.flush()
        if state == "withdrawn":
            PROPOSAL_TRANSITIONS.apply(proposal, "withdrawn", author)
        db.session.commit()
        return proposal

    return factory


@pytest.fixture
def create_follow(app):
    from consulta.tavoli.models import Follow

    def factory(user, *, tavolo=None, proposal=None):
        follow = Follow(user_id=user.id, tavolo_id=tavolo.id if tavolo else None,
                        proposal_id=proposal.id if proposal else None)
        db.session.add(follow)
        db.session.commit()
        return follow

    return factory


@pytest.fixture
def create_comment(app):
    """A comment stored directly, e.g. an old one (created_minutes_ago) or many for a query-count test."""
    from consulta.comments.models import Comment

    def factory(subject, author, *, body="Sono d'accordo.", stance=None, parent=None, visibility="visible",
                created_minutes_ago: float = 0, commit=True):
        organisation = author.represented_organisation if author else None
        comment = Comment(
            tavolo_id=subject.tavolo_id,
            proposal_id=subject.id if subject.__tablename__ == "proposal" else None,
            objective_id=subject.id if subject.__tablename__ == "objective" else None,
            parent_id=parent.id if parent else None, author_id=author.id if author else None,
            organisation_id=organisation.id if organisation else None,
            category=organisation.type if organisation else "citizen",
            stance=stance, body=body, body_html=render_markdown(body), visibility=visibility,
            hidden_reason="Fuori tema" if visibility == "hidden" else None,
            created_at=utcnow() - timedelta(minutes=created_minutes_ago),
        )
        db.session.add(comment)
        if commit:
            db.session.commit()
        else:
            db.session.flush()
        return comment

    return factory


@pytest.fixture
def create_vote(app):
    """A ballot stored directly (for tallies and query counts)."""
    from consulta.votes.models import Vote

    def factory(subject, *, value="for", category="citizen", key=None, voter=None, organisation=None, commit=True):
        vote = Vote(
            tavolo_id=subject.tavolo_id,
            proposal_id=subject.id if subject.__tablename__ == "proposal" else None,
            objective_id=subject.id if subject.__tablename__ == "objective" else None,
            ballot_key=key or (f"organisation:{organisation.id}" if organisation else f"person:{voter.id}"),
            voter_id=voter.id if voter else None, organisation_id=organisation.id if organisation else None,
            category=category, value=value,
        )
        db.session.add(vote)
        if commit:
            db.session.commit()
        return vote

    return factory


@dataclass
class Cast:
    """Everyone a permission table needs, around one organisation and one tavolo's facilitator."""

    organisation: object
    participant: object
    unverified: object
    blocked: object
    representative: object
    member: object
    facilitator: object
    admin: object

    def get(self, role):
        return None if role == "anonymous" else getattr(self, role)


@pytest.fixture
def cast(create_user, create_organisation):
    org = create_organisation(name="Cooperativa Sociale Il Ponte", type="social_coop")
    return Cast(
        organisation=org,
        participant=create_user(email="carla@example.org", display_name="Carla Cittadina"),
        unverified=create_user(email="ugo@example.org", display_name="Ugo Nonverificato", verified=False),
        blocked=create_user(email="bruno@example.org", display_name="Bruno Bloccato",
                            blocked_reason="Messaggi offensivi"),
        representative=create_user(email="rita@example.org", display_name="Rita Rappresentante", organisation=org),
        member=create_user(email="marco@example.org", display_name="Marco Socio", organisation=org,
                           representative=False),
        facilitator=create_user(email="fabio@example.org", display_name="Fabio Facilitatore", role="facilitator"),
        admin=create_user(email="admin@example.org", display_name="Ufficio di Piano", role="admin"),
    )


@pytest.fixture
def as_role(client, cast):
    """as_role("participant") logs the client in as that member of the cast; "anonymous" stays logged out."""

    def do(role):
        user = cast.get(role)
        if user is not None:
            client.login(user)
        return client

    return do


@pytest.fixture
def count_rows(app):
    def count(model, *conditions):
        return db.session.execute(select(func.count()).select_from(model).where(*conditions)).scalar_one()

    return count
