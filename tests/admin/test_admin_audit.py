"""The audit log: newest first, 50 a page, filters, readable changes; and the admin home."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from consulta.core import audit
from consulta.core.audit import AuditEvent
from consulta.extensions import db
from tests.organisations.helpers import text


def event(actor, action, subject, changes=None, *, at=None, reason=None):
    row = audit.record(actor, action, subject, changes, reason=reason)
    if at is not None:
        row.at = at
    db.session.commit()
    return row


def rows(html: str) -> int:
    return len(re.findall(r"<tr>\s*<td class=\"text-nowrap\">", html))


def test_the_log_shows_who_did_what_to_which_subject_and_why(client, admin_user, create_user, create_organisation):
    person = create_user(display_name="Paola Partecipante")
    org = create_organisation(name="Cooperativa Aurora")
    event(admin_user, "user.block", person, {"blocked_reason": [None, "Spam"]}, reason="Spam ripetuto")
    event(admin_user, "organisation.verify", org, {"status": ["pending", "verified"]})
    event(None, "data.import", org)  # an action the catalogue does not know: words, never its key
    client.login(admin_user)

    html = text(client.get("/gestione/registro/"))
    assert rows(html) == 3
    # Newest first.
    html = html.split("<tbody>")[1]
    assert html.index("Altra attività") < html.index("Organizzazione verificata") < html.index("Account bloccato")
    assert "data.import" not in html
    assert "Ufficio di Piano" in html and "sistema" in html
    assert f'href="/gestione/organizzazioni/{org.id}/">Cooperativa Aurora</a>' in html
    assert f'href="/gestione/utenti/{person.id}/">Paola Partecipante</a>' in html
    assert "stato" in html and "In attesa di verifica" in html and "Verificata" in html and "→" in html
    assert "Spam ripetuto" in html


def test_fifty_a_page(client, admin_user, create_user):
    person = create_user()
    start = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    for n in range(55):
        event(admin_user, "user.role_change", person, {"role": ["participant", f"r{n}"]}, at=start + timedelta(minutes=n))
    client.login(admin_user)
    first = text(client.get("/gestione/registro/"))
    assert rows(first) == 50 and "55 attività" in first
    def shows(html, value):
        return re.search(rf"\b{value}\s*</li>", html) is not None

    assert shows(first, "r54") and shows(first, "r5") and not shows(first, "r4") and "pagina=2" in first
    second = text(client.get("/gestione/registro/?pagina=2"))
    assert rows(second) == 5 and shows(second, "r4") and shows(second, "r0") and not shows(second, "r5")


def test_filters(client, admin_user, create_user, create_organisation):
    other_admin = create_user(email="secondo@example.org", display_name="Secondo Admin", role="admin")
    person = create_user(display_name="Paola")
    org = create_organisation(name="Cooperativa Aurora")
    event(admin_user, "user.block", person, reason="Spam", at=datetime(2025, 3, 1, 10, tzinfo=UTC))
    event(other_admin, "user.unblock", person, at=datetime(2025, 3, 5, 10, tzinfo=UTC))
    event(other_admin, "organisation.verify", org, at=datetime(2025, 3, 9, 23, 30, tzinfo=UTC))  # 10 March in Rome
    client.login(admin_user)

    def filtered(query):
        response = client.get(f"/gestione/registro/?{query}")
        assert response.status_code == 200
        return text(response)

    assert rows(filtered("azione=user.block")) == 1
    assert rows(filtered("oggetto=user")) == 2
    assert rows(filtered(f"oggetto=user&oggetto_id={person.id}")) == 2
    assert rows(filtered(f"oggetto=organisation&oggetto_id={org.id}")) == 1
    assert rows(filtered("attore=SECONDO@example.org")) == 2
    assert rows(filtered("dal=2025-03-02&al=2025-03-09")) == 1
    assert rows(filtered("dal=2025-03-10")) == 1  # Rome's day, not UTC's
    assert rows(filtered("al=2025-03-01")) == 1
    html = filtered("attore=nessuno@example.org")
    assert rows(html) == 0 and "Nessun utente ha questa e-mail." in html
    # The filter form keeps the chosen values.
    html = filtered("azione=user.block&dal=2025-03-01")
    assert 'value="user.block" selected' in html and 'value="2025-03-01"' in html


@pytest.mark.parametrize(("query", "message"), [
    ("azione=drop.table", "Azione sconosciuta."),
    ("oggetto=spaceship", "Tipo di oggetto sconosciuto."),
    ("oggetto_id=abc", "Identificativo dell'oggetto non valido."),
    ("oggetto_id=-3", "Identificativo dell'oggetto non valido."),
    ("attore=senza-chiocciola", "Indica l'e-mail di chi ha compiuto l'azione."),
    ("dal=2025-13-01", "Data non valida"),
    ("al=ieri", "Data non valida"),
    ("dal=2025-03-10&al=2025-03-01", "La data iniziale è successiva a quella finale."),
    ("pagina=0", "Numero di pagina non valido."),
    ("attore=" + "a" * 250 + "@x.it", "al massimo 254 caratteri"),
])
def test_bad_filter_values_are_a_400(client, admin_user, query, message):
    client.login(admin_user)
    response = client.get(f"/gestione/registro/?{query}")
    assert response.status_code == 400
    assert message in text(response)


def test_the_log_costs_a_bounded_number_of_queries(client, admin_user, create_user, create_organisation,
                                                   count_queries):
    client.login(admin_user)
    client.get("/gestione/registro/")
    with count_queries() as few:
        client.get("/gestione/registro/")
    for _ in range(15):
        person = create_user()
        org = create_organisation()
        event(person, "user.role_change", person, {"role": ["participant", "facilitator"]})
        event(admin_user, "organisation.verify", org)
    with count_queries() as many:
        assert rows(text(client.get("/gestione/registro/"))) == 30
    assert many.count <= few.count + 3


def test_the_admin_home_counts_and_links(client, admin_user, create_user, create_organisation, pending_request):
    pending_request()
    create_organisation(status="pending")
    verified = create_organisation()
    joiner = create_user()
    from consulta.organisations.models import Membership

    db.session.add(Membership(user_id=joiner.id, organisation_id=verified.id))
    db.session.commit()
    create_user(blocked_reason="Spam")
    client.login(admin_user)
    html = text(client.get("/gestione/"))
    counts = dict((label.strip(), int(number)) for number, label in re.findall(
        r'admin-count-number">(\d+)</span>\s*<span class="admin-count-label">([^<]+)<', html))
    assert counts == {"organizzazioni da verificare": 2, "richiesta di rappresentanza": 1,
                      "utenti registrati": 4, "utente bloccato": 1}
    for link in ("/gestione/organizzazioni/", "/gestione/utenti/", "/gestione/registro/", "/gestione/piani/"):
        assert f'href="{link}"' in html


def test_audit_rows_are_never_written_by_reading(client, admin_user):
    client.login(admin_user)
    def count():
        return db.session.execute(select(func.count(AuditEvent.id))).scalar_one()

    before = count()
    for url in ("/gestione/", "/gestione/utenti/", "/gestione/registro/", "/gestione/organizzazioni/"):
        assert client.get(url).status_code == 200
    assert count() == before
