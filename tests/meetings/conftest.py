"""The scene of the meetings tests: facilitators, their tavoli, a citizen, approval through the
editor, and a way to lift the immutability triggers (for the tampering tests)."""

from __future__ import annotations

import pytest

from tests.database import immutability_guard_lifted

guard_lifted = immutability_guard_lifted


@pytest.fixture
def facilitator(create_user):
    return create_user(email="fabio@example.org", display_name="Fabio Facilitatore", role="facilitator")


@pytest.fixture
def other_facilitator(create_user):
    return create_user(email="olga@example.org", display_name="Olga Altrotavolo", role="facilitator")


@pytest.fixture
def table(create_tavolo, facilitator):
    """The tavolo under test: facilitated by `facilitator`, quorum of 2 member organisations."""
    return create_tavolo(slug="anziani", title="Anziani e non autosufficienza", facilitators=[facilitator],
                         quorum=2)


@pytest.fixture
def other_table(create_tavolo, other_facilitator):
    return create_tavolo(slug="disabilita", title="Disabilità", facilitators=[other_facilitator])


@pytest.fixture
def citizen(create_user):
    return create_user(email="carla@example.org", display_name="Carla Cittadina")


@pytest.fixture
def approve(client):
    """Approve minutes through the editor as `user`; returns the response."""

    def do(minutes, user):
        client.login(user)
        response = client.post(f"/facilitazione/verbali/{minutes.id}/approva", data={"confirm": "y"})
        client.logout()
        return response

    return do


