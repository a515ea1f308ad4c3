"""The scene of the tavoli tests: their facilitator."""

from __future__ import annotations

import pytest


@pytest.fixture
def facilitator(create_user):
    return create_user(email="facilitatrice@example.org", display_name="Chiara Benedetti", role="facilitator")
