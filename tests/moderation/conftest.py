"""The people and content of the moderation tests: two tavoli (pre- and post-moderated) with their
facilitators, a facilitator of another tavolo, participants, proposals in any state, comments, flags."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from consulta.extensions import db


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
    return make_people(create_user, create_organisation)


def make_people(create_user, create_organisation) -> People:
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
    return make_post_tavolo(create_tavolo, people)


@pytest.fixture
def pre_tavolo(create_tavolo, people):
    return make_pre_tavolo(create_tavolo, people)


def make_post_tavolo(create_tavolo, people):
    """Open, post-moderated: contributions appear at once and can be hidden later."""
    return create_tavolo(slug="anziani", title="Anziani e non autosufficienza", moderation="post",
                         facilitators=[people.facilitator])


def make_pre_tavolo(create_tavolo, people):
    """Open, pre-moderated: contributions wait in the queue."""
    return create_tavolo(slug="minori", title="Minori e famiglie", moderation="pre",
                         facilitators=[people.facilitator])


@pytest.fixture
def other_tavolo(create_tavolo, people):
    """Another facilitator's tavolo, pre-moderated: what waits there is not ours to approve."""
    return create_tavolo(slug="disabilita", title="Disabilità", moderation="pre",
                         facilitators=[people.other_facilitator])


@pytest.fixture
def make_proposal(create_proposal, people):
    """create_proposal in this scene: by Anna Autrice unless someone else (or an organisation, or a named
    citizen on paper) is given."""

    def factory(tavolo, author=None, **kwargs):
        if author is None and kwargs.get("author_name") is None and kwargs.get("organisation") is None:
            author = people.author
        return create_proposal(tavolo, author, **kwargs)

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

