"""Logging in and out, and what happens to sessions and cookies."""

from __future__ import annotations

import pytest

from consulta.core.permissions import is_active_participant

from .helpers import DEFAULT_PASSWORD, copy_cookie, reload, text, without_csrf


def test_login_page_has_the_expected_fields(client):
    html = text(client.get("/accedi"))
    assert '<label for="email" class="active">E-mail' in html
    assert '<label for="password" class="active">Password' in html
    assert 'name="remember" type="checkbox"' in html and "Ricordami" in html
    assert 'type="submit" value="Accedi"' in html
    assert 'href="/password/dimenticata"' in html


def test_a_participant_logs_in(client, dummy_user):
    assert dummy_user.last_login_at is None
    response = client.post("/accedi", data={"email": "DUMMY@example.org ", "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    # A permanent session: the cookie has an expiry.
    session_cookie = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")][0]
    assert "Expires=" in session_cookie and "HttpOnly" in session_cookie
    assert "Bentornato/a, Dora Dummy." in text(client.get("/"))
    assert client.get("/profilo/").status_code == 200
    assert reload(dummy_user).last_login_at is not None


@pytest.mark.parametrize("next_url, expected", [
    ("/profilo/", "/profilo/"),
    ("/tavoli/anziani/?pagina=2", "/tavoli/anziani/?pagina=2"),
    ("https://evil.example/", "/"),
    ("//evil.example/", "/"),
    ("/\\evil.example", "/"),
    ("javascript:alert(1)", "/"),
])
def test_next_parameter_only_goes_to_our_own_pages(client, dummy_user, next_url, expected):
    response = client.post("/accedi", query_string={"next": next_url},
                           data={"email": dummy_user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_protected_page_sends_to_login_and_back(client, dummy_user):
    response = client.get("/profilo/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accedi?next=")
    login_page = text(client.get(response.headers["Location"]))
    assert 'action="/accedi?next=/profilo/"' in login_page
    response = client.post("/accedi?next=%2Fprofilo%2F", data={"email": dummy_user.email, "password": DEFAULT_PASSWORD})
    assert response.headers["Location"] == "/profilo/"


def test_unknown_email_and_wrong_password_get_the_same_answer(client, dummy_user):
    unknown = client.post("/accedi", data={"email": "nessuno@example.org", "password": "Qualcosa-di-lungo-1"})
    wrong = client.post("/accedi", data={"email": dummy_user.email, "password": "Qualcosa-di-lungo-1"})
    assert unknown.status_code == wrong.status_code == 400
    assert "E-mail o password non corretti." in text(unknown)
    unknown_page = without_csrf(text(unknown)).replace("nessuno@example.org", "ADDRESS")
    wrong_page = without_csrf(text(wrong)).replace(dummy_user.email, "ADDRESS")
    assert unknown_page == wrong_page
    # The typed address is kept, the password is not.
    assert 'value="nessuno@example.org"' in text(unknown)
    assert "Qualcosa-di-lungo-1" not in text(unknown)
    assert client.get("/profilo/").status_code == 302
    assert reload(dummy_user).last_login_at is None


@pytest.mark.parametrize("data, message", [
    ({"email": "", "password": "x"}, "Indica il tuo indirizzo e-mail."),
    ({"email": "a" * 260 + "@example.org", "password": "x"}, "L'indirizzo e-mail può avere al massimo 254 caratteri."),
    ({"email": "dummy@example.org", "password": ""}, "Indica la password."),
    ({"email": "dummy@example.org", "password": "p" * 201}, "La password può avere al massimo 200 caratteri."),
])
def test_incomplete_or_overlong_login_is_refused(client, dummy_user, data, message):
    response = client.post("/accedi", data=data)
    assert response.status_code == 400
    assert message in text(response)
    assert client.get("/profilo/").status_code == 302


def test_login_without_csrf_token_is_refused(client, dummy_user):
    response = client.post("/accedi", data={"email": dummy_user.email, "password": DEFAULT_PASSWORD}, csrf=False)
    assert response.status_code == 400
    assert "Il modulo è scaduto o non è valido" in text(response)
    assert client.get("/profilo/").status_code == 302


def test_a_blocked_person_can_log_in_and_read_but_sees_why_they_cannot_contribute(client, create_user):
    blocked = create_user(email="bloccato@example.org", blocked_reason="Messaggi offensivi ripetuti")
    client.login(blocked)
    html = text(client.get("/profilo/"))
    assert "Il tuo account è sospeso" in html and "Messaggi offensivi ripetuti" in html
    assert not reload(blocked).can_contribute


def test_an_unverified_person_can_log_in_but_not_contribute(client, create_user):
    unverified = create_user(email="nuova@example.org", verified=False)
    client.login(unverified)
    html = text(client.get("/profilo/"))
    assert "non è ancora verificato" in html
    user = reload(unverified)
    assert not user.can_contribute
    assert not is_active_participant(user)


def test_a_logged_in_person_visiting_login_is_sent_on(client, dummy_user):
    client.login(dummy_user)
    response = client.get("/accedi?next=/profilo/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/profilo/"


# --- logout and the end of every session ----------------------------------------------

def test_logout_is_post_only(client, dummy_user):
    client.login(dummy_user)
    response = client.get("/esci")
    assert response.status_code == 405
    assert "Metodo non consentito" in text(response)
    assert client.get("/profilo/").status_code == 200


def test_logout_ends_the_session(client, dummy_user):
    client.login(dummy_user)
    before = reload(dummy_user).session_version
    response = client.logout()
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Sei uscito/a" in text(client.get("/"))
    assert client.get("/profilo/").status_code == 302
    assert reload(dummy_user).session_version == before + 1


def test_logout_without_csrf_token_is_refused_and_keeps_the_session(client, dummy_user):
    client.login(dummy_user)
    assert client.post("/esci", csrf=False).status_code == 400
    assert client.get("/profilo/").status_code == 200


def test_a_copied_session_cookie_stops_working_after_logout(client, second_client, dummy_user):
    client.login(dummy_user)
    copy_cookie(client, second_client, "session")
    assert second_client.get("/profilo/").status_code == 200  # the copy works while the session lives
    client.logout()
    response = second_client.get("/profilo/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accedi")


def test_logout_ends_sessions_on_other_devices_too(client, second_client, dummy_user):
    client.login(dummy_user)
    second_client.login(dummy_user)
    second_client.logout()
    assert client.get("/profilo/").status_code == 302


def test_remember_me_cookie_keeps_you_in_until_logout(app, client, dummy_user):
    client.login(dummy_user, remember=True)
    assert client.get_cookie("remember_token") is not None

    # A browser that kept only the remember-me cookie (its session cookie expired).
    later = app.test_client()
    copy_cookie(client, later, "remember_token")
    assert later.get("/profilo/").status_code == 200

    client.logout()
    after_logout = app.test_client()
    copy_cookie(later, after_logout, "remember_token")
    assert after_logout.get("/profilo/").status_code == 302
    assert later.get("/profilo/").status_code == 302


def test_without_remember_me_there_is_no_remember_cookie(client, dummy_user):
    client.login(dummy_user)
    assert client.get_cookie("remember_token") is None


def test_a_tampered_session_cookie_is_treated_as_anonymous(client, second_client, dummy_user):
    client.login(dummy_user)
    value = client.get_cookie("session").value
    payload, _, signature = value.rpartition(".")
    forged = payload + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    second_client.set_cookie("session", forged)
    response = second_client.get("/profilo/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accedi")
    # A cookie whose content was changed (say, to another user id) fails the signature as well.
    middle = len(payload) // 2
    changed = payload[:middle] + ("x" if payload[middle] != "x" else "y") + payload[middle + 1:]
    second_client.set_cookie("session", changed + "." + signature)
    assert second_client.get("/profilo/").status_code == 302
    assert "Accedi" in text(second_client.get("/"))


@pytest.mark.parametrize("path", ["/profilo/", "/profilo/password", "/profilo/email"])
@pytest.mark.parametrize("who, expected", [
    ("anonymous", 302),
    ("unverified", 200),
    ("blocked", 200),
    ("participant", 200),
    ("facilitator", 200),
    ("admin", 200),
])
def test_account_pages_by_role(client, create_user, path, who, expected):
    if who != "anonymous":
        user = create_user(
            role=who if who in ("facilitator", "admin") else "participant",
            verified=who != "unverified",
            blocked_reason="Prova" if who == "blocked" else None,
        )
        client.login(user)
    response = client.get(path)
    assert response.status_code == expected
    if expected == 302:
        assert response.headers["Location"].startswith("/accedi?next=")


@pytest.mark.parametrize("path", ["/registrati", "/accedi", "/password/dimenticata", "/privacy"])
def test_public_account_pages_are_open_to_anonymous_visitors(client, ambito, path):
    assert client.get(path).status_code == 200
