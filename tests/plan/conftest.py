"""Fixtures of the plan page tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def login(client):
    from tests.tavoli.tavoli_helpers import sign_in

    def do(user):
        sign_in(client, user)
        return user

    return do
