"""The notifications page, the preferences, the admin outbox, and who may open them."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from consulta.core.notify import Notification, emit
from consulta.extensions import db
from tests.digests.conftest import outbox_rows


@pytest.fixture
def people(create_user):
    return {
        "participant": create_user(email="partecipante@example.org", display_name="Paola Partecipante"),
        "unverified": create_user(email="nonverificata@example.org", verified=False),
        "blocked": create_user(email="bloccata@example.org", blocked_reason="Messaggi offensivi"),
        "facilitator": create_user(email="facilitatore@example.org", role="facilitator"),
        "admin": create_user(email="admin@example.org", role="admin", display_name="Ufficio di Piano"),
        "off": create_user(email="spenta@example.org", digest_frequency="off"),
    }


@pytest.fixture
def news(app, people, create_tavolo, create_follow, create_proposal, create_comment):
    """Paola follows a tavolo with a new proposal and a comment on it."""
    tavolo = create_tavolo(slug="anziani", title="Anziani", facilitators=[people["facilitator"]])
    paola = people["participant"]
    create_follow(paola, tavolo=tavolo)
    proposal = create_proposal(tavolo, people["admin"], title="Teleassistenza per chi vive solo")
    create_follow(paola, proposal=proposal)
    create_comment(proposal, people["facilitator"], body="Da valutare con l'ASL.")
    return tavolo, proposal


def _mine(user):
    return db.session.execute(select(Notification).where(Notification.user_id == user.id)
                              .order_by(Notification.id)).scalars().all()


# --------------------------------------------------------------------------- permissions

@pytest.mark.parametrize(("who", "path", "expected"), [
    (None, "/notifiche/", 302),
    ("participant", "/notifiche/", 200),
    ("unverified", "/notifiche/", 200),
    ("blocked", "/notifiche/", 200),
    ("admin", "/notifiche/", 200),
    (None, "/notifiche/preferenze", 302),
    ("participant", "/notifiche/preferenze", 200),
    ("unverified", "/notifiche/preferenze", 200),
    ("blocked", "/notifiche/preferenze", 200),
    (None, "/gestione/posta/", 302),
    ("participant", "/gestione/posta/", 403),
    ("facilitator", "/gestione/posta/", 403),
    ("blocked", "/gestione/posta/", 403),
    ("admin", "/gestione/posta/", 200),
])
def test_who_may_open_the_pages(client, people, who, path, expected):
    if who:
        client.login(people[who])
    response = client.get(path)
    assert response.status_code == expected
    if expected == 302:
        assert "/accedi" in response.headers["Location"]


@pytest.mark.parametrize(("who", "expected"), [
    (None, 302), ("participant", 403), ("facilitator", 403), ("admin", 302),
])
def test_who_may_send_a_digest_now(client, people, smtp_sink, who, expected):
    if who:
        client.login(people[who])
    response = client.post("/gestione/posta/invia", data={"email": "partecipante@example.org"})
    assert response.status_code == expected
    if expected == 302 and who:
        assert response.headers["Location"].endswith("/gestione/posta/")


def test_posts_without_a_csrf_token_are_refused(client, people, news):
    client.login(people["participant"])
    note = _mine(people["participant"])[0]
    for path in ("/notifiche/lette", f"/notifiche/{note.id}/letta", "/notifiche/preferenze"):
        response = client.post(path, data={"digest_frequency": "off", "locale": "it"}, csrf=False)
        assert response.status_code == 400
        assert "Il modulo è scaduto o non è valido" in response.get_data(as_text=True)
    db.session.refresh(people["participant"])
    assert people["participant"].digest_frequency == "weekly"
    assert all(n.read_at is None for n in _mine(people["participant"]))


# --------------------------------------------------------------------------- notifications page

def test_the_notifications_page_lists_readable_sentences_newest_first(client, people, news):
    tavolo, proposal = news
    client.login(people["participant"])
    html = client.get("/notifiche/").get_data(as_text=True)
    assert "<h1" in html and "Notifiche" in html
    assert "Hai 2 notifiche non lette." in html
    comment_line = html.index("Un nuovo commento su «Teleassistenza per chi vive solo»")
    proposal_line = html.index("Nuova proposta: «Teleassistenza per chi vive solo»")
    assert comment_line < proposal_line  # newest first
    assert f'href="/proposte/{proposal.id}/"' in html
    assert 'href="/commenti/' in html  # the comment's permalink
    assert html.count(">Nuova</span>") == 2 and "Anziani" in html


def test_mark_one_then_all_as_read(client, people, news):
    paola = people["participant"]
    client.login(paola)
    first, second = _mine(paola)
    response = client.post(f"/notifiche/{first.id}/letta", data={"next": "/notifiche/?pagina=1"})
    assert response.status_code == 302 and response.headers["Location"] == "/notifiche/?pagina=1"
    page = client.get("/notifiche/").get_data(as_text=True)
    assert "Notifica segnata come letta." in page and "Hai 1 notifica non letta." in page
    assert client.get("/notifiche/?filtro=non-lette").get_data(as_text=True).count(">Nuova</span>") == 1

    response = client.post("/notifiche/lette", data={"next": "https://altrove.example/"})
    assert response.headers["Location"] == "/notifiche/"  # never an open redirect
    assert "Hai letto tutte le notifiche." in client.get("/notifiche/").get_data(as_text=True)
    assert all(n.read_at is not None for n in _mine(paola))
    # Reading does not consume: the digest still carries them.
    assert all(n.digested_at is None for n in _mine(paola))


def test_someone_elses_notification_is_not_found(client, people, news):
    other = _mine(people["participant"])[0]
    client.login(people["facilitator"])
    assert client.post(f"/notifiche/{other.id}/letta").status_code == 404
    assert client.post("/notifiche/999999/letta").status_code == 404
    db.session.refresh(other)
    assert other.read_at is None


def test_content_hidden_since_is_not_shown(client, people, news):
    _tavolo, proposal = news
    proposal.visibility = "hidden"
    proposal.hidden_reason = "Dati personali"
    db.session.commit()
    client.login(people["participant"])
    html = client.get("/notifiche/").get_data(as_text=True)
    assert "Teleassistenza per chi vive solo" not in html
    assert html.count("Questo contenuto non è più disponibile.") == 2


def test_unknown_events_still_get_a_line(client, people, tavolo):
    paola = people["participant"]
    emit([paola], "survey.opened", tavolo, data={"title": "Questionario sui servizi"})
    db.session.commit()
    client.login(paola)
    assert "Un aggiornamento su «Questionario sui servizi»" in client.get("/notifiche/").get_data(as_text=True)


def test_bad_page_numbers(client, people, news):
    client.login(people["participant"])
    assert client.get("/notifiche/?pagina=abc").status_code == 400
    assert client.get("/notifiche/?pagina=0").status_code == 400
    assert client.get("/notifiche/?pagina=50").status_code == 404


def test_the_notifications_page_costs_the_same_queries_whatever_its_length(client, people, news, count_queries,
                                                                           create_comment):
    _tavolo, proposal = news
    client.login(people["participant"])
    client.get("/notifiche/")
    with count_queries() as few:
        client.get("/notifiche/")
    for n in range(30):
        create_comment(proposal, people["facilitator"], body=f"Aggiornamento {n}")
    with count_queries() as many:
        html = client.get("/notifiche/").get_data(as_text=True)
    assert "Pagina successiva" in html  # 32 notifications, 20 per page
    assert many.count <= few.count + 1, (few.statements, many.statements)
    # The next page by its link (keyset): the 12 older ones, as page 2 by its number shows them.
    later = re.search(r'<a href="([^"]+)" rel="next">', html).group(1).replace("&amp;", "&")
    shown = re.compile(r'action="/notifiche/(\d+)/')
    with count_queries() as by_link:
        page = client.get(later).get_data(as_text=True)
    with count_queries() as by_number:
        second = client.get("/notifiche/?pagina=2").get_data(as_text=True)
    assert len(shown.findall(page)) == 12 and shown.findall(page) == shown.findall(second)
    assert by_link.count == by_number.count


def test_notification_count_for_a_header_badge(app, people, news):
    from flask_login import AnonymousUserMixin

    from consulta.digests.operations import notification_count

    assert notification_count(people["participant"]) == 2
    assert notification_count(AnonymousUserMixin()) == 0


# --------------------------------------------------------------------------- preferences

def test_preferences_show_the_choices_and_what_one_follows(client, people, news):
    client.login(people["participant"])
    html = client.get("/notifiche/preferenze").get_data(as_text=True)
    (checked,) = re.findall(r'<input checked[^>]*name="digest_frequency"[^>]*>', html)
    assert 'value="weekly"' in checked
    assert "Anziani" in html and "Teleassistenza per chi vive solo" in html
    assert html.count("Non seguire più") == 2


def test_saving_preferences(client, people):
    paola = people["participant"]
    client.login(paola)
    response = client.post("/notifiche/preferenze", data={"digest_frequency": "daily", "locale": "en"})
    assert response.status_code == 302
    db.session.refresh(paola)
    assert (paola.digest_frequency, paola.locale) == ("daily", "en")
    assert '<html lang="en">' in client.get("/notifiche/preferenze").get_data(as_text=True)


@pytest.mark.parametrize(("data", "message"), [
    ({"digest_frequency": "monthly", "locale": "it"}, "Scegli una delle frequenze proposte."),
    ({"digest_frequency": "", "locale": "it"}, "Scegli ogni quanto ricevere il riepilogo."),
    ({"locale": "it"}, "Scegli ogni quanto ricevere il riepilogo."),
    ({"digest_frequency": "daily", "locale": "de"}, "Scegli l'italiano o l'inglese."),
    ({"digest_frequency": "daily" * 500, "locale": "it"}, "Scegli una delle frequenze proposte."),
])
def test_bad_preferences_are_refused_and_nothing_is_saved(client, people, data, message):
    paola = people["participant"]
    client.login(paola)
    response = client.post("/notifiche/preferenze", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True).replace("&#39;", "'")
    assert message in html and "Il modulo contiene errori" in html
    db.session.refresh(paola)
    assert (paola.digest_frequency, paola.locale) == ("weekly", "it")


def test_unfollow_from_the_preferences(client, people, news):
    from consulta.tavoli.models import Follow

    paola = people["participant"]
    client.login(paola)
    follows = db.session.execute(select(Follow).where(Follow.user_id == paola.id).order_by(Follow.id)).scalars().all()
    assert len(follows) == 2
    response = client.post(f"/notifiche/preferenze/seguiti/{follows[0].id}/rimuovi")
    assert response.status_code == 302
    assert "Non segui più questo tavolo" in client.get("/notifiche/preferenze").get_data(as_text=True)
    remaining = db.session.execute(select(Follow.id).where(Follow.user_id == paola.id)).scalars().all()
    assert remaining == [follows[1].id]

    # Somebody else's create_follow, or one that does not exist: 404, nothing removed.
    client.logout()
    client.login(people["facilitator"])
    assert client.post(f"/notifiche/preferenze/seguiti/{follows[1].id}/rimuovi").status_code == 404
    assert client.post("/notifiche/preferenze/seguiti/424242/rimuovi").status_code == 404
    assert db.session.execute(select(func.count()).select_from(Follow)
                              .where(Follow.user_id == paola.id)).scalar_one() == 1


# --------------------------------------------------------------------------- admin outbox

def test_the_admin_outbox_lists_and_filters(client, people, news, smtp_sink, send_digests):
    send_digests()
    client.login(people["admin"])
    html = client.get("/gestione/posta/").get_data(as_text=True)
    assert "Posta in uscita" in html and "partecipante@example.org" in html and "Inviata" in html
    assert "Inviata: 1" in html or "Inviata: 2" in html
    assert "partecipante@example.org" not in client.get("/gestione/posta/?stato=failed").get_data(as_text=True)
    bad = client.get("/gestione/posta/?stato=smarrita")
    assert bad.status_code == 400 and "Stato non valido" in bad.get_data(as_text=True)
    assert client.get("/gestione/posta/?pagina=-1").status_code == 400


def test_send_now_for_one_person_respects_exactly_once(client, people, news, smtp_sink, deliver_outbox):
    client.login(people["admin"])
    response = client.post("/gestione/posta/invia", data={"email": "Partecipante@Example.org"})
    assert response.status_code == 302
    page = client.get("/gestione/posta/").get_data(as_text=True).replace("&#39;", "'")
    assert "E-mail per partecipante@example.org messa in coda" in page
    assert smtp_sink.messages == []          # the request only wrote the row
    assert deliver_outbox().sent == 1
    assert [str(m["To"]) for m in smtp_sink.messages] == ["partecipante@example.org"]
    (row,) = outbox_rows()
    assert row.status == "sent" and row.period_key.startswith("weekly:")

    again = client.post("/gestione/posta/invia", data={"email": "partecipante@example.org"})
    assert again.status_code == 409
    assert "è già stato inviato" in again.get_data(as_text=True)
    assert deliver_outbox().sent == 0
    assert len(smtp_sink.messages) == 1


@pytest.mark.parametrize(("email", "status", "message"), [
    ("", 400, "Indica l'e-mail della persona"),
    ("nessuno@example.org", 400, "Nessun account con questo indirizzo e-mail."),
    ("x" * 250 + "@example.org", 400, "al massimo 254 caratteri"),
    ("bloccata@example.org", 409, "l'account è sospeso"),
    ("nonverificata@example.org", 409, "l'indirizzo non è ancora verificato"),
    ("spenta@example.org", 409, "ha disattivato i riepiloghi"),
])
def test_send_now_bad_input(client, people, smtp_sink, email, status, message):
    client.login(people["admin"])
    response = client.post("/gestione/posta/invia", data={"email": email})
    assert response.status_code == status
    html = response.get_data(as_text=True).replace("&#39;", "'")
    assert message in html
    assert 'value="' + email[:20] in html  # the input is kept
    assert smtp_sink.messages == [] and outbox_rows() == []


def test_send_now_with_nothing_new(client, people, smtp_sink):
    client.login(people["admin"])
    client.post("/gestione/posta/invia", data={"email": "partecipante@example.org"})
    assert "Nessuna novità per partecipante@example.org" in client.get("/gestione/posta/").get_data(as_text=True)
    assert smtp_sink.messages == [] and outbox_rows() == []


def test_send_now_retries_a_failed_row_once(client, people, news, smtp_sink, make_app, send_digests,
                                            deliver_outbox):
    from tests.conftest import free_port

    send_digests(on=make_app(MAIL_PORT=free_port(), DIGEST_MAX_ATTEMPTS=1))
    rows = outbox_rows()
    assert rows and all(row.status == "failed" for row in rows)
    row = next(r for r in rows if r.to_address == "partecipante@example.org")

    client.login(people["admin"])
    html = client.get("/gestione/posta/").get_data(as_text=True)
    assert f"/gestione/posta/{row.id}/invia" in html
    assert client.post(f"/gestione/posta/{row.id}/invia").status_code == 302
    assert smtp_sink.messages == []
    assert deliver_outbox().sent == 1
    assert [str(m["To"]) for m in smtp_sink.messages] == ["partecipante@example.org"]
    db.session.refresh(row)
    assert row.status == "sent"
    # Sent now: the button is gone and a second push is a conflict.
    response = client.post(f"/gestione/posta/{row.id}/invia")
    assert response.status_code == 409
    assert deliver_outbox().sent == 0
    assert len(smtp_sink.messages) == 1
    assert client.post("/gestione/posta/999999/invia").status_code == 404
