"""Factories of the tavoli tests: facilitators, objectives with revisions, login."""

from __future__ import annotations

import pytest

from consulta.extensions import db


@pytest.fixture
def login(client):
    from tests.tavoli.tavoli_helpers import sign_in

    def do(user):
        sign_in(client, user)
        return user

    return do


@pytest.fixture
def facilitator(create_user):
    return create_user(email="facilitatrice@example.org", display_name="Chiara Benedetti", role="facilitator")


@pytest.fixture
def create_objective(app):
    """An objective of `tavolo`; status published stores revision 1 like the real publication does."""
    from consulta.core.db import utcnow
    from consulta.core.text import render_markdown
    from consulta.tavoli.models import Objective, ObjectiveRevision

    def factory(tavolo, *, title="Sostenere la domiciliarità", body="Ampliare l'assistenza domiciliare.",
                status="published", author=None):
        objective = Objective(
            tavolo_id=tavolo.id, title=title, body=body, body_html=render_markdown(body), status=status,
            created_by_id=author.id if author else None,
            published_at=utcnow() if status != "draft" else None,
        )
        db.session.add(objective)
        db.session.flush()
        if status != "draft":
            db.session.add(ObjectiveRevision(objective_id=objective.id, number=1, title=title, body=body,
                                             edited_by_id=author.id if author else None))
        db.session.commit()
        return objective

    return factory


@pytest.fixture
def browser_login(app, live_server):
    from tests.tavoli.tavoli_helpers import browser_sign_in

    def do(pg, user):
        browser_sign_in(pg, app, user, live_server.url)

    return do
