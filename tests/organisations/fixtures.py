"""Shared fixtures of the organisations and admin stories (imported by both conftests)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from consulta.extensions import db
from consulta.organisations.models import Membership
from tests.organisations.helpers import BODY_TAX_CODE


@pytest.fixture
def narni(ambito):
    from consulta.ambito.models import Comune

    return db.session.execute(select(Comune).where(Comune.name == "Narni")).scalar_one()


@pytest.fixture
def request_form(narni):
    """A valid "register an organisation" form; override fields per test (None drops one)."""

    def data(**overrides):
        form = {
            "name": "Associazione Il Girasole",
            "type": "volunteer",
            "tax_code": BODY_TAX_CODE,
            "runts_number": "12345",
            "comune": str(narni.id),
            "website": "https://ilgirasole.example.org",
        }
        form.update(overrides)
        return {k: v for k, v in form.items() if v is not None}

    return data


@pytest.fixture
def representative(create_user):
    """A verified participant who will ask for an organisation."""
    return create_user(email="rappresentante@example.org", display_name="Rita Rappresentante")


@pytest.fixture
def pending_request(representative, create_organisation, narni):
    """An organisation waiting for verification, with its founder's pending membership."""

    def make(user=None, **kwargs):
        user = user or representative
        org = create_organisation(status="pending", comune=narni, created_by_id=user.id, **kwargs)
        db.session.add(Membership(user_id=user.id, organisation_id=org.id, is_representative=True))
        db.session.commit()
        return org

    return make
