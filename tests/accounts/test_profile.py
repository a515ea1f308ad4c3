"""The profile: see and edit your data, change password and e-mail address."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from consulta.accounts import tokens
from consulta.ambito.models import Comune
from consulta.extensions import db

from .helpers import (
    DEFAULT_PASSWORD,
    NEW_PASSWORD,
    audit_actions,
    copy_cookie,
    link_in_mail,
    reload,
    text,
)


@pytest.fixture
def giulia(create_user, ambito):
    amelia = db.session.execute(select(Comune).where(Comune.name == "Amelia")).scalar_one()
    return create_user(email="giulia@example.org", display_name="Giulia Ferri", comune=amelia)


def comune_id(name: str) -> str:
    return str(db.session.execute(select(Comune.id).where(Comune.name == name)).scalar_one())


def profile_form(**overrides):
    data = {"display_name": "Giulia Ferri", "comune": comune_id("Amelia"), "digest_frequency": "weekly",
            "locale": "it"}
    data.update(overrides)
    return data


# --- seeing the profile -------------------------------------------------------

def test_the_profile_shows_my_data(client, giulia):
    client.login(giulia)
    html = text(client.get("/profilo/"))
    assert "<h1" in html and "Il tuo profilo" in html
    assert "giulia@example.org" in html and "Verificato" in html
    assert "Amelia" in html
    assert "Cittadino o cittadina" in html
    assert "Ogni settimana" in html
    assert "Italiano" in html
    assert 'href="/profilo/password"' in html and 'href="/profilo/email"' in html
    assert 'href="/organizzazioni/richiesta"' in html
    # The edit form starts from the stored values.
    assert 'value="Giulia Ferri"' in html
    assert f'<option selected value="{comune_id("Amelia")}">Amelia</option>' in html


def test_the_profile_shows_my_organisation(client, create_user, create_organisation):
    org = create_organisation(name="Cooperativa Il Ponte", type="social_coop")
    user = create_user(organisation=org)
    client.login(user)
    html = text(client.get("/profilo/"))
    assert "Cooperativa Il Ponte" in html
    assert "Cooperativa sociale" in html
    assert "Adesione confermata" in html and "Sei rappresentante" in html


def test_the_profile_shows_a_pending_request(client, create_user, create_organisation):
    from consulta.organisations.models import Membership

    org = create_organisation(name="Associazione Anteas", status="pending")
    user = create_user()
    db.session.add(Membership(user_id=user.id, organisation_id=org.id, status="pending"))
    db.session.commit()
    client.login(user)
    html = text(client.get("/profilo/"))
    assert "Associazione Anteas" in html and "Richiesta in attesa" in html


# --- editing the profile ---------------------------------------------------------

def test_editing_the_profile(client, giulia):
    client.login(giulia)
    response = client.post("/profilo/", data=profile_form(
        display_name="  Giulia F.  ", comune="altro", digest_frequency="daily", locale="en"))
    assert response.status_code == 302
    assert response.headers["Location"] == "/profilo/"
    user = reload(giulia)
    assert (user.display_name, user.comune_id, user.digest_frequency, user.locale) == (
        "Giulia F.", None, "daily", "en")
    assert audit_actions(user) == ["user.update_profile"]
    html = text(client.get("/profilo/"))
    assert '<html lang="en">' in html
    assert "Giulia F." in html


def test_saving_without_changes_says_so(client, giulia):
    client.login(giulia)
    client.post("/profilo/", data=profile_form())
    assert "Non c'era nulla da cambiare." in text(client.get("/profilo/"))
    assert audit_actions(giulia) == []


@pytest.mark.parametrize("overrides, message", [
    ({"display_name": "g" * 121}, "Il nome può avere al massimo 120 caratteri."),
    ({"display_name": "\u200b\t "}, "Indica il nome con cui comparirai nella consultazione."),
    ({"comune": "424242"}, "Scegli un comune dall'elenco"),
    ({"comune": "x"}, "Scegli un comune dall'elenco"),
    ({"digest_frequency": "monthly"}, "Scelta non valida."),
    ({"locale": "de"}, "Scegli una lingua dall'elenco."),
])
def test_bad_profile_input_is_refused_and_nothing_changes(client, giulia, overrides, message):
    client.login(giulia)
    response = client.post("/profilo/", data=profile_form(**overrides))
    assert response.status_code == 400
    assert message in text(response)
    user = reload(giulia)
    assert (user.display_name, user.comune.name, user.digest_frequency, user.locale) == (
        "Giulia Ferri", "Amelia", "weekly", "it")


def test_profile_edit_without_csrf_is_refused(client, giulia):
    client.login(giulia)
    assert client.post("/profilo/", data=profile_form(display_name="Altro"), csrf=False).status_code == 400
    assert reload(giulia).display_name == "Giulia Ferri"


# --- changing the password ---------------------------------------------------------

def password_form(current=DEFAULT_PASSWORD, new=NEW_PASSWORD, confirm=None):
    return {"current_password": current, "password": new, "password_confirm": confirm or new}


def test_changing_the_password_keeps_me_in_and_ends_other_sessions(deliver_outbox, app, client, second_client, giulia, smtp_sink):
    client.login(giulia)
    second_client.login(giulia)               # another device
    copied = app.test_client()
    copy_cookie(client, copied, "session")    # a stolen copy of this very cookie

    response = client.post("/profilo/password", data=password_form())
    assert response.status_code == 302
    assert response.headers["Location"] == "/profilo/"
    assert "Password cambiata" in text(client.get("/profilo/"))
    assert client.get("/profilo/").status_code == 200
    assert second_client.get("/profilo/").status_code == 302
    assert copied.get("/profilo/").status_code == 302

    user = reload(giulia)
    assert user.check_password(NEW_PASSWORD)
    assert audit_actions(user) == ["user.password_change"]
    deliver_outbox()
    smtp_sink.wait_for(1)
    assert smtp_sink.to("giulia@example.org")[0]["Subject"] == "La tua password è stata cambiata"


def test_changing_the_password_renews_a_remember_me_cookie(app, client, giulia):
    client.login(giulia, remember=True)
    client.post("/profilo/password", data=password_form())
    later = app.test_client()
    copy_cookie(client, later, "remember_token")
    assert later.get("/profilo/").status_code == 200


@pytest.mark.parametrize("form, message", [
    (password_form(current="Sbagliata-del-tutto-1"), "La password attuale non è corretta."),
    (password_form(current=""), "Indica la password attuale."),
    (password_form(confirm="Non-la-stessa-password-2"), "Le due password non coincidono."),
    (password_form(new="breve"), "La password deve avere almeno 10 caratteri."),
    (password_form(new="iloveyou123"), "tra le più usate"),
    (password_form(new="giulia-giulia-99"), "La password non deve contenere il tuo indirizzo e-mail."),
    (password_form(new=DEFAULT_PASSWORD), "La nuova password deve essere diversa da quella attuale."),
    (password_form(new="q" * 150 + "w" * 51), "La password può avere al massimo 200 caratteri."),
])
def test_a_bad_password_change_is_refused(deliver_outbox, client, giulia, smtp_sink, form, message):
    client.login(giulia)
    response = client.post("/profilo/password", data=form)
    assert response.status_code == 400
    assert message in text(response)
    user = reload(giulia)
    assert user.check_password(DEFAULT_PASSWORD)
    assert audit_actions(user) == []
    deliver_outbox()
    assert smtp_sink.messages == []
    # Passwords are never echoed back into the page.
    assert DEFAULT_PASSWORD not in text(response)


# --- changing the e-mail address --------------------------------------------------------

def test_changing_the_address_happens_when_the_new_one_is_confirmed(deliver_outbox, client, giulia, smtp_sink):
    client.login(giulia)
    response = client.post("/profilo/email", data={"email": "Giulia.Nuova@Example.org",
                                                   "current_password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert "Ti stiamo inviando un link a giulia.nuova@example.org" in text(client.get("/profilo/"))
    assert reload(giulia).email == "giulia@example.org"   # not yet
    assert audit_actions(giulia) == ["user.email_change_request"]

    deliver_outbox()
    path = link_in_mail(smtp_sink, "giulia.nuova@example.org", "/profilo/email/conferma/")
    assert smtp_sink.to("giulia.nuova@example.org")[0]["Subject"] == "Conferma il nuovo indirizzo e-mail"
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == "/profilo/"
    assert "Indirizzo e-mail cambiato" in text(client.get("/profilo/"))

    user = reload(giulia)
    assert user.email == "giulia.nuova@example.org" and user.is_verified
    assert audit_actions(user) == ["user.email_change_request", "user.email_change"]
    # The old address is told.
    deliver_outbox()
    smtp_sink.wait_for(2)
    notice = smtp_sink.to("giulia@example.org")[-1]
    assert notice["Subject"] == "Il tuo indirizzo e-mail è stato cambiato"
    assert "giulia.nuova@example.org" in smtp_sink.text_of(notice)

    # The link does not work twice; the session goes on; the new address logs in.
    reused = client.get(path)
    assert reused.status_code == 400 and "Link già usato" in text(reused)
    client.logout()
    client.post("/accedi", data={"email": "giulia.nuova@example.org", "password": DEFAULT_PASSWORD})
    assert client.get("/profilo/").status_code == 200


def test_confirming_the_new_address_while_logged_out(client, giulia):
    token = tokens.make_change_email_token(giulia, "giulia.nuova@example.org")
    response = client.get(f"/profilo/email/conferma/{token}")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accedi")
    assert reload(giulia).email == "giulia.nuova@example.org"


@pytest.mark.parametrize("email, password, message", [
    ("giulia.nuova@example.org", "Sbagliata-del-tutto-1", "La password attuale non è corretta."),
    ("GIULIA@example.org", DEFAULT_PASSWORD, "È già il tuo indirizzo attuale."),
    ("Occupato@Example.org", DEFAULT_PASSWORD, "Questo indirizzo è già usato da un altro account."),
    ("non-valida", DEFAULT_PASSWORD, "Questo non sembra un indirizzo e-mail valido"),
    ("n" * 250 + "@example.org", DEFAULT_PASSWORD, "L'indirizzo e-mail può avere al massimo 254 caratteri."),
    ("", DEFAULT_PASSWORD, "Indica il tuo indirizzo e-mail."),
])
def test_a_bad_address_change_is_refused(deliver_outbox, client, giulia, create_user, smtp_sink, email, password, message):
    create_user(email="occupato@example.org")
    client.login(giulia)
    response = client.post("/profilo/email", data={"email": email, "current_password": password})
    assert response.status_code == 400
    assert message in text(response)
    assert reload(giulia).email == "giulia@example.org"
    assert audit_actions(giulia) == []
    deliver_outbox()
    assert smtp_sink.messages == []


def test_an_address_taken_before_the_link_is_opened_is_refused(client, giulia, create_user):
    token = tokens.make_change_email_token(giulia, "conteso@example.org")
    create_user(email="Conteso@example.org")
    response = client.get(f"/profilo/email/conferma/{token}")
    assert response.status_code == 409
    assert "Indirizzo non più disponibile" in text(response)
    assert reload(giulia).email == "giulia@example.org"
    assert audit_actions(giulia) == []


def test_an_older_change_link_dies_after_another_change(client, giulia):
    first = tokens.make_change_email_token(giulia, "prima@example.org")
    second = tokens.make_change_email_token(giulia, "seconda@example.org")
    assert client.get(f"/profilo/email/conferma/{second}").status_code == 302
    response = client.get(f"/profilo/email/conferma/{first}")
    assert response.status_code == 400
    assert "Link non valido" in text(response)
    assert reload(giulia).email == "seconda@example.org"


def test_an_expired_or_tampered_change_link_is_refused(app, client, giulia):
    from .helpers import old_token, tamper

    payload = {"u": giulia.id, "old": giulia.email, "new": "tardi@example.org"}
    expired = old_token(app, tokens.Purpose.change_email, payload, app.config["EMAIL_VERIFY_MAX_AGE"] + 5)
    response = client.get(f"/profilo/email/conferma/{expired}")
    assert response.status_code == 400 and "Link scaduto" in text(response)
    tampered = tamper(tokens.make_change_email_token(giulia, "altro@example.org"))
    response = client.get(f"/profilo/email/conferma/{tampered}")
    assert response.status_code == 400 and "Link non valido" in text(response)
    assert reload(giulia).email == "giulia@example.org"


def test_a_verification_link_sent_to_the_old_address_is_useless_after_the_change(client, create_user):
    user = create_user(email="vecchia@example.org", verified=False)
    old_link = "/verifica-email/" + tokens.make_verify_email_token(user)
    client.get("/profilo/email/conferma/" + tokens.make_change_email_token(user, "nuova@example.org"))
    response = client.get(old_link)
    assert response.status_code == 400
    assert reload(user).email == "nuova@example.org"


# --- privacy -----------------------------------------------------------------------

def test_the_privacy_notice_names_the_controller_and_the_rights(client, ambito):
    html = text(client.get("/privacy"))
    assert "Informativa sul trattamento dei dati personali" in html
    assert "Ambito Territoriale Sociale n. 11" in html and "Narni" in html
    for words in ("Titolare del trattamento", "Per quanto tempo", "I tuoi diritti", "Garante per la protezione",
                  "Regolamento (UE) 2016/679", "Cookie"):
        assert words in html


def test_a_wrong_current_password_is_reported_together_with_the_other_errors(client, giulia):
    client.login(giulia)
    response = client.post("/profilo/password", data=password_form(current="Sbagliata-del-tutto-1", new="breve"))
    html = text(response)
    assert response.status_code == 400
    assert "La password attuale non è corretta." in html
    assert "La password deve avere almeno 10 caratteri." in html
