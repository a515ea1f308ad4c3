"""The people and content of the moderation tests: two tavoli (pre- and post-moderated) with their
facilitators, a facilitator of another tavolo, participants, proposals in any state, comments, flags."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from consulta.core.db import utcnow
from consulta.core.text import render_markdown
from consulta.extensions import db
from tests.participation_factories import create_comment, create_follow  # noqa: F401  (fixtures)


@dataclass
class People:
    organisation: object
    author: object
    reader: object
    representative: object
    unverified: object
    blocked: object
    facilitator: object
    other_facilitator: object
    admin: object

    def get(self, role):
        return None if role == "anonymous" else getattr(self, role)


@pytest.fixture
def people(create_user, create_organisation):
    org = create_organisation(name="Auser Narni", type="volunteer")
    return People(
        organisation=org,
        author=create_user(email="autrice@example.org", display_name="Anna Autrice"),
        reader=create_user(email="lettore@example.org", display_name="Luca Lettore"),
        representative=create_user(email="rita@example.org", display_name="Rita Rappresentante", organisation=org),
        unverified=create_user(email="ugo@example.org", display_name="Ugo Nonverificato", verified=False),
        blocked=create_user(email="bruno@example.org", display_name="Bruno Bloccato", blocked_reason="Spam"),
        facilitator=create_user(email="fabio@example.org", display_name="Fabio Facilitatore", role="facilitator"),
        other_facilitator=create_user(email="olga@example.org", display_name="Olga Altrotavolo",
                                      role="facilitator"),
        admin=create_user(email="admin@example.org", display_name="Ufficio di Piano", role="admin"),
    )


@pytest.fixture
def post_tavolo(create_tavolo, people):
    """Open, post-moderated: contributions appear at once and can be hidden later."""
    return create_tavolo(slug="anziani", title="Anziani e non autosufficienza", moderation="post",
                         facilitators=[people.facilitator])


@pytest.fixture
def pre_tavolo(create_tavolo, people):
    """Open, pre-moderated: contributions wait in the queue."""
    return create_tavolo(slug="minori", title="Minori e famiglie", moderation="pre",
                         facilitators=[people.facilitator])


@pytest.fixture
def other_tavolo(create_tavolo, people):
    return create_tavolo(slug="disabilita", title="Disabilità", facilitators=[people.other_facilitator])


@pytest.fixture
def make_proposal(app, people):
    """A proposal in any state; states past publication go through the transition table."""
    from consulta.proposals.models import PROPOSAL_TRANSITIONS, Proposal

    def factory(tavolo, author=None, *, title="Un centro diurno per gli anziani", body="Apriamo un **centro diurno**.",
                state="published", visibility=None, hidden_reason=None, organisation=None, minutes_ago: float = 0,
                channel="online", protocol_number=None, author_name=None):
        author = people.author if author is None and author_name is None and organisation is None else author
        created = utcnow() - timedelta(minutes=minutes_ago)
        published = state != "submitted"
        proposal = Proposal(
            tavolo_id=tavolo.id, author_id=author.id if author else None, author_name=author_name, title=title,
            body=body, body_html=render_markdown(body), organisation_id=organisation.id if organisation else None,
            category=organisation.type if organisation else "citizen", channel=channel,
            protocol_number=protocol_number, recorded_by_id=people.facilitator.id if channel != "online" else None,
            state="published" if published else "submitted",
            visibility=visibility or ("visible" if published else "pending"), hidden_reason=hidden_reason,
            created_at=created, published_at=created if published else None,
        )
        db.session.add(proposal)
        db.session.flush()
        facilitator = people.admin
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


@pytest.fixture
def make_flag(app):
    from consulta.moderation.models import Flag

    def factory(item, reporter, *, reason="offensive", note=None, minutes_ago: float = 0):
        row = Flag(tavolo_id=item.tavolo_id, reporter_id=reporter.id, reason=reason, note=note,
                   proposal_id=item.id if item.__tablename__ == "proposal" else None,
                   comment_id=item.id if item.__tablename__ == "comment" else None,
                   created_at=utcnow() - timedelta(minutes=minutes_ago))
        db.session.add(row)
        db.session.commit()
        return row

    return factory


@pytest.fixture
def audit_count(app):
    """How many AuditEvent rows exist: a refused act must not add one."""
    from consulta.core.audit import AuditEvent

    def count(*conditions):
        return db.session.execute(select(func.count(AuditEvent.id)).where(*conditions)).scalar_one()

    return count


@pytest.fixture
def notifications(app):
    from consulta.core.notify import Notification

    def rows(event=None, user=None):
        stmt = select(Notification).order_by(Notification.id)
        if event is not None:
            stmt = stmt.where(Notification.event == event)
        if user is not None:
            stmt = stmt.where(Notification.user_id == user.id)
        return list(db.session.execute(stmt).scalars())

    return rows

