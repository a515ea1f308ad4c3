"""An admin lists users, changes roles, blocks and unblocks, each audited."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from consulta.accounts.models import User
from consulta.core.audit import AuditEvent
from consulta.extensions import db
from tests.organisations.helpers import audit_actions, text


def stored(user) -> User:
    return db.session.get(User, user.id)


def test_users_are_listed_25_a_page_with_search_and_filters(client, admin_user, create_user, create_organisation):
    org = create_organisation(name="Cooperativa Aurora")
    for n in range(30):
        create_user(email=f"utente{n:02d}@example.org", display_name=f"Utente {n:02d}")
    create_user(email="bloccata@example.org", display_name="Bianca Bloccata", blocked_reason="Spam")
    create_user(email="facile@example.org", display_name="Fabio Facilitatore", role="facilitator",
                organisation=org)
    create_user(email="nuovo@example.org", display_name="Nino Nuovo", verified=False)
    client.login(admin_user)

    first = text(client.get("/gestione/utenti/"))
    assert "34 utenti" in first
    assert len(re.findall(r'href="/gestione/utenti/\d+/"', first)) == 25
    assert "pagina=2" in first
    second = text(client.get("/gestione/utenti/?pagina=2"))
    assert len(re.findall(r'href="/gestione/utenti/\d+/"', second)) == 9

    found = text(client.get("/gestione/utenti/?q=FABIO"))
    assert "1 utente" in found and "Fabio Facilitatore" in found and "Cooperativa Aurora" in found
    assert "Fabio Facilitatore" in text(client.get("/gestione/utenti/?q=facile@example"))
    html = text(client.get("/gestione/utenti/?ruolo=facilitator"))
    assert "Fabio Facilitatore" in html and "Utente 00" not in html
    html = text(client.get("/gestione/utenti/?stato=bloccati"))
    assert "Bianca Bloccata" in html and "1 utente" in html
    html = text(client.get("/gestione/utenti/?stato=non_verificati"))
    assert "Nino Nuovo" in html and "1 utente" in html
    assert "Nessun utente corrisponde" in text(client.get("/gestione/utenti/?q=%25_"))


@pytest.mark.parametrize(("query", "message"), [
    ("ruolo=superuser", "Ruolo sconosciuto."),
    ("stato=morti", "Stato sconosciuto."),
    ("pagina=0", "Numero di pagina non valido."),
    ("pagina=x", "Numero di pagina non valido."),
    ("q=" + "y" * 101, "al massimo 100 caratteri"),
])
def test_bad_user_filters_are_a_400(client, admin_user, query, message):
    client.login(admin_user)
    response = client.get(f"/gestione/utenti/?{query}")
    assert response.status_code == 400
    assert message in text(response)


def test_the_user_list_costs_a_bounded_number_of_queries(client, admin_user, create_user, create_organisation,
                                                         count_queries):
    client.login(admin_user)
    client.get("/gestione/utenti/")
    with count_queries() as few:
        client.get("/gestione/utenti/")
    org = create_organisation()
    for n in range(20):
        create_user(organisation=org if n % 2 else None)
    with count_queries() as many:
        client.get("/gestione/utenti/")
    assert many.count <= few.count + 2


def test_changing_a_role_is_audited(client, admin_user, create_user):
    person = create_user(display_name="Paola Partecipante")
    client.login(admin_user)
    response = client.post(f"/gestione/utenti/{person.id}/ruolo", data={"role": "facilitator"})
    assert response.status_code == 302
    assert "Il ruolo di Paola Partecipante ora è «Facilitatore/facilitatrice»" in text(
        client.get(response.headers["Location"]))
    assert stored(person).role == "facilitator"
    event = db.session.execute(select(AuditEvent)).scalar_one()
    assert (event.action, event.actor_id, event.subject_type, event.subject_id) == (
        "user.role_change", admin_user.id, "user", person.id)
    assert event.changes == {"role": ["participant", "facilitator"]}

    # The same role again changes nothing and writes nothing.
    client.post(f"/gestione/utenti/{person.id}/ruolo", data={"role": "facilitator"})
    assert audit_actions() == ["user.role_change"]


def test_bad_roles_are_refused(client, admin_user, create_user):
    person = create_user()
    client.login(admin_user)
    response = client.post(f"/gestione/utenti/{person.id}/ruolo", data={"role": "superuser"})
    assert response.status_code == 400
    assert "Scegli un ruolo dall'elenco." in text(response)
    assert client.post(f"/gestione/utenti/{person.id}/ruolo", data={"role": "admin"}, csrf=False).status_code == 400
    assert stored(person).role == "participant"
    assert audit_actions() == []


def test_an_admin_cannot_demote_themselves(client, admin_user):
    client.login(admin_user)
    page = text(client.get(f"/gestione/utenti/{admin_user.id}/"))
    assert "Questo è il tuo account" in page and 'name="role"' not in page
    response = client.post(f"/gestione/utenti/{admin_user.id}/ruolo", data={"role": "participant"})
    assert response.status_code == 403
    assert "Non puoi cambiare il tuo ruolo" in text(response)
    assert stored(admin_user).role == "admin"
    response = client.post(f"/gestione/utenti/{admin_user.id}/blocca", data={"reason": "prova"})
    assert response.status_code == 403 and "Non puoi bloccare il tuo account." in text(response)
    assert audit_actions() == []


def test_blocking_ends_the_sessions_and_the_person_sees_why(app, client, admin_user, create_user):
    person = create_user(email="bloccanda@example.org", display_name="Bruna")
    theirs = app.test_client()
    theirs.login(person)
    assert theirs.get("/organizzazioni/richiesta").status_code == 200

    client.login(admin_user)
    response = client.post(f"/gestione/utenti/{person.id}/blocca",
                           data={"reason": "Messaggi offensivi ripetuti."})
    assert response.status_code == 302
    assert "L'account di Bruna è bloccato" in text(client.get(response.headers["Location"]))
    person = stored(person)
    assert person.blocked_at is not None and person.blocked_reason == "Messaggi offensivi ripetuti."
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "user.block")).scalar_one()
    assert event.reason == "Messaggi offensivi ripetuti."
    assert event.changes["blocked_reason"] == [None, "Messaggi offensivi ripetuti."]

    # Their open session has ended: they are anonymous again.
    response = theirs.get("/organizzazioni/richiesta")
    assert response.status_code == 302 and response.headers["Location"].startswith("/accedi")
    # Logging in again, they can read but not ask for an organisation, and see the reason.
    theirs.login(person)
    response = theirs.get("/organizzazioni/richiesta")
    assert response.status_code == 403
    assert "Messaggi offensivi ripetuti." in text(theirs.get("/organizzazioni/"))


@pytest.mark.parametrize(("reason", "message"), [
    ("", "Indica il motivo del blocco."),
    ("  \n ", "Indica il motivo del blocco."),
    ("z" * 501, "Il motivo può avere al massimo 500 caratteri."),
])
def test_blocking_needs_a_reason(client, admin_user, create_user, reason, message):
    person = create_user()
    client.login(admin_user)
    response = client.post(f"/gestione/utenti/{person.id}/blocca", data={"reason": reason})
    assert response.status_code == 400
    html = text(response)
    assert message in html
    if reason.strip():
        assert reason in html  # kept
    assert stored(person).blocked_at is None
    assert audit_actions() == []


def test_unblocking_and_double_actions(client, admin_user, create_user):
    person = create_user(blocked_reason="Spam")
    client.login(admin_user)
    response = client.post(f"/gestione/utenti/{person.id}/blocca", data={"reason": "Ancora"})
    assert response.status_code == 409 and "Questo account è già bloccato." in text(response)

    assert client.post(f"/gestione/utenti/{person.id}/sblocca", csrf=False).status_code == 400
    assert stored(person).blocked_at is not None

    response = client.post(f"/gestione/utenti/{person.id}/sblocca")
    assert response.status_code == 302
    person = stored(person)
    assert person.blocked_at is None and person.blocked_reason is None
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "user.unblock")).scalar_one()
    assert event.changes["blocked_reason"] == ["Spam", None]

    response = client.post(f"/gestione/utenti/{person.id}/sblocca")
    assert response.status_code == 409 and "Questo account non è bloccato." in text(response)
    assert audit_actions() == ["user.unblock"]


def test_the_user_page(client, admin_user, create_user, create_organisation):
    org = create_organisation(name="Cooperativa Aurora")
    person = create_user(display_name="Marta Membro", organisation=org)
    client.login(admin_user)
    client.post(f"/gestione/utenti/{person.id}/ruolo", data={"role": "facilitator"})
    html = text(client.get(f"/gestione/utenti/{person.id}/"))
    assert "Marta Membro" in html and person.email in html and "Cooperativa Aurora" in html
    assert "Ruolo cambiato" in html and "Partecipante" in html and "Facilitatore/facilitatrice" in html
    assert "Blocca l'account" in html
    assert client.get("/gestione/utenti/999999/").status_code == 404
