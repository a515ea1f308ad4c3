"""Account operations: each flushes, the view commits."""

from __future__ import annotations

from consulta.accounts.models import RegisteredAs, Role, User, normalise_email
from consulta.accounts.passwords import password_problem
from consulta.core import audit
from consulta.core.db import utcnow
from consulta.core.text import clean_plain
from consulta.extensions import db


class PasswordProblem(ValueError):
    pass


def create_user(
    *,
    email: str,
    display_name: str,
    password: str,
    comune_id: int | None = None,
    registered_as: str = RegisteredAs.citizen,
    digest_frequency: str = "weekly",
    locale: str = "it",
    role: str = Role.participant,
    verified: bool = False,
    check_password: bool = True,
) -> User:
    if check_password:
        problem = password_problem(password, email=email, display_name=display_name)
        if problem:
            raise PasswordProblem(problem)
    now = utcnow()
    user = User(
        email=normalise_email(email),
        display_name=clean_plain(display_name),
        comune_id=comune_id,
        registered_as=registered_as,
        digest_frequency=digest_frequency,
        locale=locale,
        role=role,
        privacy_consent_at=now,
        email_verified_at=now if verified else None,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def create_admin_account(*, email: str, display_name: str, password: str) -> User:
    user = create_user(email=email, display_name=display_name, password=password, role=Role.admin, verified=True)
    audit.record(None, "user.create_admin", user, {"role": [None, Role.admin.value]})
    return user
