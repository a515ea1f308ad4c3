"""The scene of the proposals tests: the cast around Auser Narni and an open tavolo."""

from __future__ import annotations

import pytest

from tests.factories import Cast


@pytest.fixture
def cast(create_user, create_organisation):
    return make_cast(create_user, create_organisation)


def make_cast(create_user, create_organisation) -> Cast:
    """The cast around Auser Narni, as a plain function: a scene's build makes it too."""
    org = create_organisation(name="Auser Narni", type="volunteer")
    return Cast(
        organisation=org,
        participant=create_user(email="citizen@example.org", display_name="Carla Cittadina"),
        unverified=create_user(email="unverified@example.org", display_name="Ugo Nonverificato", verified=False),
        blocked=create_user(email="blocked@example.org", display_name="Bruno Bloccato",
                            blocked_reason="Messaggi offensivi"),
        representative=create_user(email="rep@example.org", display_name="Rita Rappresentante", organisation=org),
        member=None,
        facilitator=create_user(email="facilitator@example.org", display_name="Fabio Facilitatore",
                                role="facilitator"),
        admin=create_user(email="admin@example.org", display_name="Ufficio di Piano", role="admin"),
    )


@pytest.fixture
def open_tavolo(create_tavolo, cast):
    return make_open_tavolo(create_tavolo, cast)


def make_open_tavolo(create_tavolo, cast):
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
