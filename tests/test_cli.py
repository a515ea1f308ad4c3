"""`flask --app consulta create-admin`: flags for scripts, prompts for people, clear refusals."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from consulta.accounts.models import User
from consulta.core.audit import AuditEvent
from consulta.extensions import db

PASSWORD = "Ufficio-di-Piano-2025!"


def users() -> list[User]:
    return list(db.session.execute(select(User).order_by(User.id)).scalars())


def test_create_admin_with_flags(runner, client):
    result = runner.invoke(args=["create-admin", "--email", "Ufficio.Piano@Example.org",
                                 "--name", "Ufficio di Piano", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    [admin] = users()
    assert "Amministratore creato: ufficio.piano@example.org" in result.output
    assert (admin.email, admin.display_name, admin.role) == ("ufficio.piano@example.org", "Ufficio di Piano", "admin")
    assert admin.email_verified_at is not None and admin.blocked_at is None
    assert admin.check_password(PASSWORD)
    action = db.session.execute(select(AuditEvent.action).where(AuditEvent.subject_id == admin.id)).scalar_one()
    assert action == "user.create_admin"
    # The new admin can log in and open the admin area.
    client.login(admin, password=PASSWORD)
    assert client.get("/gestione/").status_code == 200


def test_create_admin_by_prompts(runner):
    result = runner.invoke(args=["create-admin"],
                           input=f"admin@example.org\nAnna Amministratrice\n{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "E-mail:" in result.output and "Nome visualizzato:" in result.output and "Password:" in result.output
    assert PASSWORD not in result.output  # hidden input
    [admin] = users()
    assert admin.display_name == "Anna Amministratrice" and admin.role == "admin"


@pytest.mark.parametrize(("password", "message"), [
    ("corta", "La password deve avere almeno 10 caratteri."),
    ("password123", "tra le più usate"),
    ("aaaaaaaaaaaa", "troppo ripetitiva"),
])
def test_weak_passwords_are_refused(runner, password, message):
    result = runner.invoke(args=["create-admin", "--email", "admin@example.org", "--name", "Admin",
                                 "--password", password])
    assert result.exit_code != 0
    assert message in result.output
    assert users() == []


def test_duplicate_email_is_refused_in_any_case(runner, create_user):
    create_user(email="admin@example.org")
    result = runner.invoke(args=["create-admin", "--email", "ADMIN@Example.org", "--name", "Admin",
                                 "--password", PASSWORD])
    assert result.exit_code != 0
    assert "Esiste già un account con l'e-mail admin@example.org." in result.output
    assert [u.role for u in users()] == ["participant"]
    assert db.session.execute(select(func.count(AuditEvent.id))).scalar_one() == 0


@pytest.mark.parametrize(("email", "name", "message"), [
    ("non-una-mail", "Admin", "L'indirizzo e-mail «non-una-mail» non è valido."),
    ("admin@", "Admin", "non è valido"),
    ("admin@example.org", "   ", "Indica un nome da mostrare."),
    ("admin@example.org", "N" * 121, "Il nome può avere al massimo 120 caratteri."),
])
def test_bad_email_or_name_is_refused(runner, email, name, message):
    result = runner.invoke(args=["create-admin", "--email", email, "--name", name, "--password", PASSWORD])
    assert result.exit_code != 0
    assert message in result.output
    assert users() == []
