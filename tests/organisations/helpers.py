"""Helpers for the organisations and admin stories: stored state, read back."""

from __future__ import annotations

import html

from sqlalchemy import func, select

from consulta.core.audit import AuditEvent
from consulta.core.notify import Notification
from consulta.extensions import db
from consulta.organisations.models import Membership, Organisation

# Valid codici fiscali of bodies (11 digits, check digit included) and of a person.
BODY_TAX_CODE = "01234560553"
OTHER_BODY_TAX_CODE = "80012340552"
PERSON_TAX_CODE = "RSSMRA85T10A562S"


def text(response) -> str:
    """The page as a reader sees it: entities such as &#39; unescaped."""
    return html.unescape(response.get_data(as_text=True))


def organisations_count() -> int:
    return db.session.execute(select(func.count(Organisation.id))).scalar_one()


def memberships_count() -> int:
    return db.session.execute(select(func.count(Membership.id))).scalar_one()


def audit_actions(subject_type: str | None = None, subject_id: int | None = None) -> list[str]:
    query = select(AuditEvent.action).order_by(AuditEvent.id)
    if subject_type:
        query = query.where(AuditEvent.subject_type == subject_type)
    if subject_id is not None:
        query = query.where(AuditEvent.subject_id == subject_id)
    return list(db.session.execute(query).scalars())


def notifications_for(user) -> list[str]:
    return list(db.session.execute(
        select(Notification.event).where(Notification.user_id == user.id).order_by(Notification.id)
    ).scalars())


def membership_of(user) -> Membership | None:
    return db.session.execute(select(Membership).where(Membership.user_id == user.id)).scalar_one_or_none()
