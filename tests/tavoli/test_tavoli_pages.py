"""Public tavoli pages: the list, a tavolo page, the home page; drafts stay hidden."""

from __future__ import annotations

from datetime import date

import pytest

from consulta.extensions import db


def test_tavoli_index_lists_the_current_plan_tavoli_as_cards(client, ambito, create_plan, create_tavolo):
    plan = create_plan(title="Piano Sociale di Zona 2025–2027")
    create_tavolo(plan=plan, title="Anziani e non autosufficienza", area="Anziani", deadline_days=10)
    create_tavolo(plan=plan, title="Povertà e inclusione", area="Povertà", phase="discussion")
    create_tavolo(plan=plan, title="Tavolo riservato in bozza", phase="draft")
    old = create_plan(title="Piano 2022–2024", status="closed", period_start=2022, period_end=2024,
                      adoption_reference="Delibera n. 3", adoption_date=date(2022, 3, 1))
    create_tavolo(plan=old, title="Tavolo del piano vecchio")

    response = client.get("/tavoli/")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Anziani e non autosufficienza" in html and "Povertà e inclusione" in html
    assert "Aperto alle proposte" in html and "In discussione" in html
    assert "10 giorni rimasti" in html
    assert "Tavolo riservato in bozza" not in html
    assert "Tavolo del piano vecchio" not in html


def test_tavoli_index_without_any_plan_says_so(client, ambito):
    response = client.get("/tavoli/")
    assert response.status_code == 200
    assert "Non è ancora stato aperto alcun Piano di Zona." in response.get_data(as_text=True)


def test_tavolo_page_shows_what_a_participant_needs(client, ambito, create_tavolo, facilitator, create_objective):
    tavolo = create_tavolo(slug="anziani", title="Anziani", area="Anziani e non autosufficienza",
                           description="Il tavolo sulla **domiciliarità**.\n\n<script>alert(1)</script>",
                           facilitators=[facilitator], deadline_days=5.5)
    create_objective(tavolo, title="Sostenere la domiciliarità")
    create_objective(tavolo, title="Obiettivo ancora in bozza", status="draft")

    response = client.get("/tavoli/anziani/")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1 class=\"mb-2\">Anziani</h1>" in html
    assert "Anziani e non autosufficienza" in html
    assert "Aperto alle proposte" in html
    assert "6 giorni rimasti" in html
    assert "<strong>domiciliarità</strong>" in html
    assert "<script>alert(1)" not in html
    assert "Chiara Benedetti" in html
    assert "Sostenere la domiciliarità" in html
    assert "Obiettivo ancora in bozza" not in html
    # Anonymous: no proposal button, an explanation with a login link instead.
    assert "Presenta una proposta" not in html
    assert "Per presentare una proposta" in html and "/accedi" in html


def test_tavolo_page_with_past_deadline_says_scaduto(client, ambito, create_tavolo, dummy_user, login):
    create_tavolo(slug="scaduto", deadline_days=-2)
    login(dummy_user)
    html = client.get("/tavoli/scaduto/").get_data(as_text=True)
    assert "Termine per le proposte scaduto il" in html
    assert "Il termine per presentare proposte è scaduto." in html
    assert "Presenta una proposta" not in html


@pytest.mark.parametrize(("who", "phase", "expected"), [
    ("participant", "open", "button"),
    ("unverified", "open", "Per presentare una proposta devi prima verificare il tuo indirizzo e-mail."),
    ("blocked", "open", "Il tuo account è sospeso: non puoi presentare proposte."),
    ("participant", "discussion", "In questa fase il tavolo non accetta nuove proposte."),
    ("participant", "closed", "In questa fase il tavolo non accetta nuove proposte."),
])
def test_proposal_button_or_the_reason_why_not(client, ambito, create_tavolo, create_user, login, who, phase, expected):
    create_tavolo(slug="t", phase=phase)
    user = create_user(verified=who != "unverified", blocked_reason="Messaggi offensivi" if who == "blocked" else None)
    login(user)
    html = client.get("/tavoli/t/").get_data(as_text=True)
    if expected == "button":
        assert "/tavoli/t/proposte/nuova" in html and "Presenta una proposta" in html
    else:
        assert "Presenta una proposta" not in html
        assert expected in html


def test_draft_tavolo_is_404_for_the_public_and_shown_with_a_badge_to_its_facilitator(
        client, ambito, create_tavolo, facilitator, dummy_user, login):
    create_tavolo(slug="bozza", title="Tavolo in bozza", phase="draft", facilitators=[facilitator])
    assert client.get("/tavoli/bozza/").status_code == 404
    login(dummy_user)
    assert client.get("/tavoli/bozza/").status_code == 404
    client.logout()
    login(facilitator)
    response = client.get("/tavoli/bozza/")
    assert response.status_code == 200
    assert "Bozza · non visibile al pubblico" in response.get_data(as_text=True)
    assert "Tavolo in bozza" in client.get("/tavoli/").get_data(as_text=True)


def test_unknown_or_overlong_slug_is_404(client, ambito):
    assert client.get("/tavoli/non-esiste/").status_code == 404
    assert client.get("/tavoli/" + "x" * 500 + "/").status_code == 404


def test_tavolo_page_counts_only_public_contributions(client, ambito, create_tavolo, create_user, create_proposal,
                                                     create_comment, create_vote):
    tavolo = create_tavolo(slug="conti", moderation="pre")
    alice, bruno, carla = create_user(), create_user(), create_user()
    visible = create_proposal(tavolo, alice, title="Visibile")
    create_proposal(tavolo, carla, title="In attesa", state="submitted")
    create_comment(visible, bruno)
    create_comment(visible, bruno, deleted=True)
    create_vote(visible, carla, "for")

    html = client.get("/tavoli/conti/").get_data(as_text=True)

    assert "<dt>Proposte</dt><dd>1</dd>" in html
    assert "<dt>Commenti</dt><dd>1</dd>" in html
    # alice (author), bruno (comment), carla (vote; her pending proposal does not count twice)
    assert "<dt>Partecipanti</dt><dd>3</dd>" in html


def test_home_page_shows_current_plan_and_open_tavoli_with_days_left(client, ambito, create_plan, create_tavolo):
    plan = create_plan()
    create_tavolo(plan=plan, title="Minori e famiglia", deadline_days=3)
    create_tavolo(plan=plan, title="Segreto", phase="draft")
    html = client.get("/").get_data(as_text=True)
    assert "Minori e famiglia" in html and "3 giorni rimasti" in html
    assert "1 tavolo aperto alle proposte" in html
    assert "Segreto" not in html
    assert f"/piano/{plan.id}/" in html


def test_the_header_of_the_tavolo_page_comes_with_the_tavolo(client, ambito, create_tavolo, create_user,
                                                              create_follow, create_proposal, count_queries):
    """The layout's Ambito and unread notifications are read in the tavolo's statement: a signed-in reader costs
    the page only their own user; the badge follows what they read, from one request to the next."""
    tavolo = create_tavolo(slug="anziani", title="Anziani")
    paola = create_user(display_name="Paola")
    create_follow(paola, tavolo=tavolo)
    create_proposal(tavolo, create_user(), title="Teleassistenza")
    create_proposal(tavolo, create_user(), title="Centro diurno")
    client.get("/tavoli/anziani/")
    with count_queries() as anonymous:
        html = client.get("/tavoli/anziani/").get_data(as_text=True)
    assert "<title>Anziani · Ambito Territoriale Sociale n. 11</title>" in html

    client.login(paola)
    client.get("/tavoli/anziani/")
    with count_queries() as signed_in:
        html = client.get("/tavoli/anziani/").get_data(as_text=True)
    assert signed_in.count == anonymous.count + 1
    assert "<title>Anziani · Ambito Territoriale Sociale n. 11</title>" in html
    assert '2<span class="visually-hidden"> non lette</span>' in html
    assert "Non seguire più" in html

    client.post("/notifiche/lette")
    html = client.get("/tavoli/anziani/").get_data(as_text=True)
    assert "non lette</span>" not in html and "Non seguire più" in html


def test_tavolo_and_objective_pages_cost_the_same_queries_with_more_objectives_and_revisions(
        client, ambito, create_tavolo, create_objective, facilitator, login, count_queries):
    from consulta.tavoli.models import ObjectiveRevision

    tavolo = create_tavolo(slug="t", facilitators=[facilitator])
    first = create_objective(tavolo)
    login(facilitator)
    client.get("/tavoli/t/")
    with count_queries() as few_tavolo:
        client.get("/tavoli/t/")
    with count_queries() as few_objective:
        client.get(f"/tavoli/t/obiettivi/{first.id}/")
    for i in range(15):
        create_objective(tavolo, title=f"Obiettivo {i}", status="draft" if i % 3 else "published")
    db.session.add_all([ObjectiveRevision(objective_id=first.id, number=n, title="t", body=f"b{n}")
                        for n in range(2, 12)])
    db.session.commit()
    with count_queries() as many_tavolo:
        client.get("/tavoli/t/")
    with count_queries() as many_objective:
        client.get(f"/tavoli/t/obiettivi/{first.id}/")
    assert many_tavolo.count == few_tavolo.count
    assert many_objective.count == few_objective.count


def test_tavoli_index_costs_the_same_queries_for_2_or_20_tavoli(
        client, ambito, create_plan, create_tavolo, count_queries):
    plan = create_plan()
    for i in range(2):
        create_tavolo(plan=plan, title=f"A{i}")
    client.get("/tavoli/")
    with count_queries() as few:
        client.get("/tavoli/")
    for i in range(18):
        create_tavolo(plan=plan, title=f"B{i}")
    with count_queries() as many:
        client.get("/tavoli/")
    assert many.count == few.count


def test_bad_listing_parameters_on_the_tavolo_page_are_a_400(client, ambito, create_tavolo):
    create_tavolo(slug="t")
    assert client.get("/tavoli/t/?ordine=;DROP TABLE proposal").status_code == 400
