"""The facilitator's home: their tavoli with phase, deadline, counts and the actions they may take."""

from __future__ import annotations

from consulta.extensions import db


def test_facilitator_sees_only_their_tavoli_with_counts(
        client, ambito, create_tavolo, create_user, create_objective, create_proposal, facilitator, login):
    mine = create_tavolo(title="Anziani", facilitators=[facilitator], deadline_days=4)
    draft = create_tavolo(title="Disabilità in preparazione", phase="draft", facilitators=[facilitator])
    create_tavolo(title="Tavolo di altri", facilitators=[create_user(role="facilitator")])
    create_objective(mine, title="Uno")
    create_objective(mine, title="Due")
    create_objective(mine, title="Tre", status="draft")
    author = create_user()
    for i in range(3):
        create_proposal(mine, author, title=f"P{i}")
    create_proposal(mine, author, title="Ritirata", state="withdrawn")
    login(facilitator)

    html = client.get("/facilitazione/").get_data(as_text=True)

    assert "Anziani" in html and "Disabilità in preparazione" in html
    assert "Tavolo di altri" not in html
    assert "4 giorni rimasti" in html
    assert "<dt>Proposte pubblicate</dt><dd>3</dd>" in html
    assert "<dt>Obiettivi: Pubblicato</dt><dd>2</dd>" in html
    assert "<dt>Obiettivi: Bozza</dt><dd>1</dd>" in html
    assert f"/facilitazione/tavoli/{mine.slug}/obiettivi/nuovo" in html
    # The facilitator may start the discussion of an open tavolo, not open a draft (an admin does).
    assert "Chiudi le proposte e avvia la discussione" in html
    assert "Apri alle proposte" not in html
    assert f"/gestione/tavoli/{draft.slug}/modifica" not in html


def test_admin_sees_every_tavolo_and_the_admin_links(client, ambito, create_tavolo, create_user, admin_user, login):
    create_tavolo(title="Anziani")
    draft = create_tavolo(title="In bozza", phase="draft")
    login(admin_user)
    html = client.get("/facilitazione/").get_data(as_text=True)
    assert "Anziani" in html and "In bozza" in html
    assert f"/gestione/tavoli/{draft.slug}/modifica" in html and "Apri alle proposte" in html


def test_facilitator_without_tavoli_gets_an_explanation(client, ambito, facilitator, login):
    login(facilitator)
    assert "Non ti è ancora stato assegnato alcun tavolo." in client.get("/facilitazione/").get_data(as_text=True)


def test_phase_button_on_the_facilitation_home_comes_back_to_it(client, ambito, create_tavolo, facilitator, login):
    tavolo = create_tavolo(slug="t", facilitators=[facilitator])
    login(facilitator)
    html = client.get("/facilitazione/").get_data(as_text=True)
    assert 'name="next" value="/facilitazione/"' in html
    response = client.post("/facilitazione/tavoli/t/fase", data={"target": "discussion", "next": "/facilitazione/"})
    assert response.headers["Location"] == "/facilitazione/"
    db.session.refresh(tavolo)
    assert tavolo.phase == "discussion"


def test_facilitation_home_costs_the_same_queries_for_2_or_30_tavoli(
        client, ambito, create_tavolo, create_objective, admin_user, login, count_queries):
    login(admin_user)
    for i in range(2):
        create_objective(create_tavolo(title=f"A{i}"))
    client.get("/facilitazione/")
    with count_queries() as few:
        client.get("/facilitazione/")
    for i in range(18):
        create_objective(create_tavolo(title=f"B{i}"))
    with count_queries() as many:
        assert client.get("/facilitazione/").status_code == 200
    assert many.count == few.count


def test_the_dashboard_shows_meetings_minutes_and_what_the_plan_has_to_take_in(
        client, ambito, create_tavolo, create_proposal, create_user, create_meeting, create_minutes,
        approve_decisions, facilitator, login):
    from datetime import timedelta

    tavolo = create_tavolo(title="Anziani", facilitators=[facilitator])
    author = create_user(email="autrice@example.org")
    accepted = create_proposal(tavolo, author, title="Trasporto sociale")
    approve_decisions(tavolo, [(accepted, "approved")], by=facilitator)  # one decision for the plan
    held = create_meeting(tavolo, title="Incontro di ieri", starts_in=-timedelta(days=1), by=facilitator)
    create_minutes(held, by=facilitator)  # a draft waiting for approval
    upcoming = create_meeting(tavolo, title="Prossimo incontro", starts_in=timedelta(days=3), by=facilitator)
    login(facilitator)

    html = client.get("/facilitazione/").get_data(as_text=True)

    row = html.split('class="dashboard-row"')[1]
    assert f'href="/incontri/{upcoming.id}/"' in row and "Prossimo incontro" in row
    drafts = row.split('data-label="Verbali in bozza"')[1].split("</td>")[0]
    assert f'href="/facilitazione/tavoli/{tavolo.slug}/incontri/"' in drafts and '"dashboard-number">1<' in drafts
    take_in = row.split('data-label="Da recepire nel piano"')[1].split("</td>")[0]
    assert f'href="/facilitazione/piano/{tavolo.plan_id}/#da-recepire"' in take_in
    assert '"dashboard-number">1<' in take_in
    tools = html.split('class="dashboard-tools"')[1]
    assert "Incontri e verbali" in tools and "Redazione del piano" in tools
