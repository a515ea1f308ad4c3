"""A person registers: the form, its bad inputs, the verification e-mail."""

from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from consulta.accounts.models import User
from consulta.ambito.models import Comune
from consulta.extensions import db

from .helpers import (
    DEFAULT_PASSWORD,
    audit_actions,
    link_in_mail,
    path_of,
    reload,
    text,
    users_count,
    without_csrf,
)


def test_register_form_lists_the_comuni_of_the_ambito(client, ambito):
    response = client.get("/registrati")
    html = text(response)
    assert response.status_code == 200
    for label in ("Nome e cognome", "E-mail", "Password", "Ripeti la password", "Comune di residenza",
                  "Partecipi come", "Riepilogo per e-mail", "informativa"):
        assert label in html
    assert html.index("Amelia") < html.index("Narni") < html.index("Otricoli")
    assert "Altro comune (fuori dall'Ambito)" in html
    # No comune is chosen for the person: the first option asks.
    select_html = html.split('name="comune"')[1].split("</select>")[0]
    assert "selected" not in select_html and '<option value="">Scegli il comune</option>' in select_html
    # Weekly digest is preselected.
    assert re.search(r'<input checked [^>]*name="digest_frequency"[^>]*value="weekly"', html)


def test_the_comune_must_be_chosen(client, registration):
    response = client.post("/registrati", data=registration(comune=""))
    assert response.status_code == 400
    assert "Scegli un comune dall'elenco oppure «Altro comune»." in text(response)
    assert users_count() == 0


def test_a_citizen_registers_verifies_the_address_and_logs_in(deliver_outbox, client, registration, smtp_sink):
    response = client.post("/registrati", data=registration(email="Giulia.Ferri@Example.org"))
    assert response.status_code == 302
    assert response.headers["Location"] == "/accedi"

    user = db.session.execute(select(User)).scalar_one()
    assert user.email == "giulia.ferri@example.org"
    assert user.display_name == "Giulia Ferri"
    assert user.comune.name == "Narni"
    assert user.registered_as == "citizen"
    assert user.digest_frequency == "weekly"
    assert user.privacy_consent_at is not None
    assert user.email_verified_at is None
    assert user.check_password(registration()["password"])
    assert audit_actions(user) == ["user.register"]

    page = text(client.get("/accedi"))
    assert "Ti stiamo inviando un'e-mail a giulia.ferri@example.org" in page
    # Registering does not log in (an address that already has an account could not): the link does.
    assert client.get("/profilo/").status_code == 302

    deliver_outbox()
    path = link_in_mail(smtp_sink, "giulia.ferri@example.org", "/verifica-email/")
    message = smtp_sink.to("giulia.ferri@example.org")[0]
    assert message["Subject"] == "Conferma il tuo indirizzo e-mail"
    assert message.is_multipart()
    assert {"multipart/alternative", "text/plain", "text/html"} <= {part.get_content_type() for part in message.walk()}
    assert path in message.get_body(preferencelist=("html",)).get_content()
    assert "Ciao Giulia Ferri" in smtp_sink.text_of(message)

    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == "/accedi?next=/profilo/"
    assert "Indirizzo e-mail verificato" in text(client.get(response.headers["Location"]))
    client.login(user)
    profile = text(client.get("/profilo/"))
    assert "Verificato" in profile and "Da verificare" not in profile
    user = db.session.get(User, user.id)
    assert user.is_verified and user.can_contribute
    assert audit_actions(user) == ["user.register", "user.verify_email"]


def test_other_comune_and_representative_and_digest_choice(client, registration):
    response = client.post("/registrati", data=registration(
        comune="altro", registered_as="representative", digest_frequency="off"))
    assert response.status_code == 302
    user = db.session.execute(select(User)).scalar_one()
    assert user.comune_id is None
    assert user.registered_as == "representative"
    assert user.digest_frequency == "off"
    assert "chiedi di aderirvi" in text(client.get("/accedi"))
    client.login(user)
    profile = text(client.get("/profilo/"))
    assert 'href="/organizzazioni/richiesta"' in profile
    assert "Altro comune" in profile


def test_registering_in_english_stores_the_language(client, registration):
    client.get("/lingua/en")
    assert client.post("/registrati", data=registration()).status_code == 302
    assert db.session.execute(select(User.locale)).scalar_one() == "en"


LONG = "x" * 300


@pytest.mark.parametrize("overrides, field_message", [
    ({"display_name": "a" * 121}, "Il nome può avere al massimo 120 caratteri."),
    ({"display_name": "   "}, "Indica il nome con cui comparirai nella consultazione."),
    ({"email": "a" * 250 + "@example.org"}, "L'indirizzo e-mail può avere al massimo 254 caratteri."),
    ({"email": "giulia.example.org"}, "Questo non sembra un indirizzo e-mail valido"),
    ({"email": "giulia@"}, "Questo non sembra un indirizzo e-mail valido"),
    ({"email": ""}, "Indica il tuo indirizzo e-mail."),
    ({"password": "corta-1", "password_confirm": "corta-1"}, "La password deve avere almeno 10 caratteri."),
    ({"password": "password123", "password_confirm": "password123"}, "tra le più usate"),
    ({"password": "giulia.ferri-2025", "password_confirm": "giulia.ferri-2025"},
     "La password non deve contenere il tuo indirizzo e-mail."),
    ({"password": LONG, "password_confirm": LONG}, "La password può avere al massimo 200 caratteri."),
    ({"password_confirm": "Un-altra-password-99"}, "Le due password non coincidono."),
    ({"privacy": None}, "devi dichiarare di aver letto l'informativa privacy"),
    ({"comune": "999999"}, "Scegli un comune dall'elenco"),
    ({"comune": "Narni"}, "Scegli un comune dall'elenco"),
    ({"comune": None}, "Scegli un comune dall'elenco"),
    ({"registered_as": "admin"}, "Scelta non valida."),
    ({"digest_frequency": "hourly"}, "Scelta non valida."),
])
def test_bad_input_is_refused_with_a_message_and_nothing_is_saved(deliver_outbox, client, registration, smtp_sink,
                                                                  overrides, field_message):
    data = registration(**overrides)
    response = client.post("/registrati", data=data)
    html = text(response)
    assert response.status_code == 400
    assert "Il modulo contiene errori" in html
    assert field_message in html
    assert users_count() == 0
    # The rest of the input is kept.
    if "display_name" not in overrides:
        assert 'value="Giulia Ferri"' in html
    deliver_outbox()
    assert smtp_sink.messages == []


def test_a_comune_removed_meanwhile_is_refused(client, registration):
    # The id was valid when the page was served, and the row disappears before the POST.
    otricoli = db.session.execute(select(Comune).where(Comune.name == "Otricoli")).scalar_one()
    data = registration(comune=str(otricoli.id))
    db.session.delete(otricoli)
    db.session.commit()
    response = client.post("/registrati", data=data)
    assert response.status_code == 400
    assert "Scegli un comune dall'elenco" in text(response)
    assert users_count() == 0


def test_a_registered_address_gets_the_same_answer_and_its_owner_a_way_in(app, registration, create_user,
                                                                           smtp_sink, deliver_outbox):
    """Registration does not tell whether an address has an account: same status, same page, same flash;
    the owner of the address (and only they) learn it, by e-mail."""
    owner = create_user(email="giulia.ferri@example.org", display_name="Giulia Prima")
    taken, free = app.test_client(), app.test_client()
    answers = []
    for client, email in ((taken, "GIULIA.Ferri@example.ORG"), (free, "nuova.persona@example.org")):
        response = client.post("/registrati", data=registration(email=email))
        page = client.get(response.headers["Location"])
        answers.append((response.status_code, response.headers["Location"],
                        without_csrf(text(page)).replace(email.lower(), "ADDRESS")))
    assert answers[0] == answers[1]
    assert "Esiste già" not in answers[0][2]
    assert users_count() == 2

    deliver_outbox()
    smtp_sink.wait_for(2)
    message = smtp_sink.to(owner.email)[0]
    assert message["Subject"] == "Hai già un account"
    body = smtp_sink.text_of(message)
    assert "Ciao Giulia Prima" in body
    assert {path_of(link) for link in smtp_sink.links_in(message)} >= {"/accedi", "/password/dimenticata"}
    assert smtp_sink.to("nuova.persona@example.org")[0]["Subject"] == "Conferma il tuo indirizzo e-mail"
    # The existing account is untouched: its password still works, nobody registered it again.
    assert reload(owner).display_name == "Giulia Prima" and reload(owner).check_password(DEFAULT_PASSWORD)


def test_both_registration_paths_hash_the_password_once(app, client, registration, create_user, monkeypatch):
    """The existing-address path does the same expensive work as a new account (no ~1 s difference)."""
    create_user(email="giulia.ferri@example.org")
    calls = []
    real_hash = PasswordHasher.hash

    def counting_hash(self, password, *args, **kwargs):
        calls.append(password)
        return real_hash(self, password, *args, **kwargs)

    monkeypatch.setattr(PasswordHasher, "hash", counting_hash)
    for email in ("giulia.ferri@example.org", "nuova.persona@example.org"):
        calls.clear()
        response = client.post("/registrati", data=registration(email=email))
        assert response.status_code == 302
        assert calls == [DEFAULT_PASSWORD], email


def test_the_unique_index_also_catches_a_concurrent_duplicate(app, monkeypatch):
    """Two requests both pass the "already registered?" check: the database decides."""
    from consulta.accounts import operations

    operations.create_user(email="giulia.ferri@example.org", display_name="Prima", password="x",
                           check_password=False)
    db.session.commit()
    # The race: the other request's row was not there yet when this one checked.
    monkeypatch.setattr(operations, "account_with_email", lambda *args, **kwargs: None)
    with pytest.raises(operations.EmailTaken):
        operations.register(email="Giulia.Ferri@example.org", display_name="Seconda",
                            password="Prova-della-Consulta-42", comune_id=None,
                            registered_as="citizen", digest_frequency="weekly", locale="it")
    db.session.rollback()
    assert users_count() == 1


def test_missing_csrf_token_is_refused(client, registration):
    response = client.post("/registrati", data=registration(), csrf=False)
    assert response.status_code == 400
    assert "Il modulo è scaduto o non è valido" in text(response)
    assert users_count() == 0


def test_a_logged_in_person_is_sent_to_the_profile(client, dummy_user):
    client.login(dummy_user)
    response = client.get("/registrati")
    assert response.status_code == 302
    assert response.headers["Location"] == "/profilo/"
