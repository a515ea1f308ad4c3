"""Fixtures for the accounts stories."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from consulta.extensions import db, limiter

from .helpers import DEFAULT_PASSWORD


@pytest.fixture
def registration(ambito):
    """A valid registration form for a citizen of Narni; override fields per test (None drops one)."""
    from consulta.ambito.models import Comune

    narni = db.session.execute(select(Comune).where(Comune.name == "Narni")).scalar_one()

    def data(**overrides):
        form = {
            "display_name": "Giulia Ferri",
            "email": "giulia.ferri@example.org",
            "password": DEFAULT_PASSWORD,
            "password_confirm": DEFAULT_PASSWORD,
            "comune": str(narni.id),
            "registered_as": "citizen",
            "digest_frequency": "weekly",
            "privacy": "y",
        }
        form.update(overrides)
        return {k: v for k, v in form.items() if v is not None}

    return data


@pytest.fixture
def rate_limited_app(make_app, app):
    """An app with Flask-Limiter switched on. The limiter is one shared object, so it is
    switched off again afterwards: the other tests run with the testing config (no limits)."""

    def factory(**overrides):
        settings = {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://",
                    "RATELIMIT_LOGIN": "3 per minute", "RATELIMIT_REGISTER": "3 per minute",
                    "RATELIMIT_RESET": "3 per minute"}
        settings.update(overrides)
        return make_app(**settings)

    yield factory
    limiter.init_app(app)
    assert limiter.enabled is False


@pytest.fixture
def second_client(app):
    """Another browser: a client that starts with no cookies."""
    return app.test_client()
