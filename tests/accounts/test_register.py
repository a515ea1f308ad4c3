"""A person registers: the form, its bad inputs, the verification e-mail."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from consulta.accounts.models import User
from consulta.ambito.models import Comune
from consulta.extensions import db

from .helpers import audit_actions, link_in_mail, text, users_count


def test_register_form_lists_the_comuni_of_the_ambito(client, ambito):
    response = client.get("/registrati")
    html = text(response)
    assert response.status_code == 200
    for label in ("Nome e cognome", "E-mail", "Password", "Ripeti la password", "Comune di residenza",
                  "Partecipi come", "Riepilogo per e-mail", "informativa"):
        assert label in html
    assert html.index("Amelia") < html.index("Narni") < html.index("Otricoli")
    assert "Altro comune (fuori dall'Ambito)" in html
    # Weekly digest is preselected.
    assert re.search(r'<input checked [^>]*name="digest_frequency"[^>]*value="weekly"', html)


def test_a_citizen_registers_is_logged_in_and_verifies_the_address(deliver_outbox, client, registration, smtp_sink):
    response = client.post("/registrati", data=registration(email="Giulia.Ferri@Example.org"))
    assert response.status_code == 302
    assert response.headers["Location"] == "/profilo/"

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

    profile = text(client.get("/profilo/"))
    assert "Registrazione completata" in profile
    assert "Da verificare" in profile
    assert "non è ancora verificato" in profile

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
    assert response.headers["Location"] == "/profilo/"
    profile = text(client.get("/profilo/"))
    assert "Indirizzo e-mail verificato" in profile
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
    profile = text(client.get("/profilo/"))
    assert "chiedi di aderirvi" in profile
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


def test_duplicate_email_in_another_case_is_refused_with_a_way_out(deliver_outbox, client, registration, create_user, smtp_sink):
    create_user(email="giulia.ferri@example.org")
    response = client.post("/registrati", data=registration(email="GIULIA.Ferri@example.ORG"))
    html = text(response)
    assert response.status_code == 400
    assert "Esiste già un account con questo indirizzo e-mail." in html
    assert 'href="/password/dimenticata"' in html
    assert users_count() == 1
    deliver_outbox()
    assert smtp_sink.messages == []


def test_the_unique_index_also_catches_a_concurrent_duplicate(app, monkeypatch):
    """Two requests both pass the "already registered?" check: the database decides."""
    from consulta.accounts import operations

    operations.create_user(email="giulia.ferri@example.org", display_name="Prima", password="x",
                           check_password=False)
    db.session.commit()
    # The race: the other request's row was not there yet when this one checked.
    monkeypatch.setattr(operations, "email_in_use", lambda *args, **kwargs: False)
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
