"""Public plan pages: the editions, and one edition with its tavoli and their counts."""

from __future__ import annotations

from datetime import date

import pytest


@pytest.fixture
def add_contributions(create_proposal, create_comment, create_vote):
    """Published proposals with comments and votes by `people`, plus hidden, pending and withdrawn noise,
    in a pre-moderated tavolo (where a proposal may still wait for approval)."""

    def add(tavolo, people, *, proposals=1, comments_each=1, votes_each=1):
        assert tavolo.moderation == "pre"
        for i in range(proposals):
            proposal = create_proposal(tavolo, people[i % len(people)], title=f"Proposta {i}", body="x")
            for j in range(comments_each):
                create_comment(proposal, people[j % len(people)], body="c")
            for voter in people[:votes_each]:
                create_vote(proposal, voter, "for")
        create_proposal(tavolo, people[0], title="Nascosta", body="x", visibility="hidden", hide_reason="spam")
        create_proposal(tavolo, people[0], title="In attesa", body="x", state="submitted")
        create_proposal(tavolo, people[0], title="Ritirata", body="x", state="withdrawn")

    return add


def test_editions_newest_first(client, ambito, create_plan):
    create_plan(title="Piano 2019–2021", status="closed", period_start=2019, period_end=2021,
                adoption_reference="Delibera n. 2", adoption_date=date(2019, 5, 1))
    create_plan(title="Piano 2025–2027", period_start=2025, period_end=2027)
    create_plan(title="Piano 2022–2024", status="monitoring", period_start=2022, period_end=2024,
                adoption_reference="Delibera n. 7", adoption_date=date(2022, 4, 1))

    response = client.get("/piano/")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.index("Piano 2025–2027") < html.index("Piano 2022–2024") < html.index("Piano 2019–2021")
    assert "In concertazione" in html and "In monitoraggio" in html and "Concluso" in html
    assert "Edizione in corso" in html


def test_a_single_edition_opens_directly(client, ambito, create_plan):
    plan = create_plan(title="Piano 2025–2027", period_start=2025, period_end=2027)
    response = client.get("/piano/")
    assert response.status_code == 302 and response.headers["Location"] == f"/piano/{plan.id}/"


def test_no_editions_yet(client, ambito):
    assert "Non è ancora stato aperto alcun Piano di Zona." in client.get("/piano/").get_data(as_text=True)


def test_plan_page_shows_tavoli_with_phase_deadline_and_public_counts(
        client, ambito, create_plan, create_tavolo, create_user, add_contributions):
    plan = create_plan(description="Il piano **triennale**. <script>alert(1)</script>")
    anziani = create_tavolo(plan=plan, title="Anziani", deadline_days=9, moderation="pre")
    create_tavolo(plan=plan, title="Povertà", phase="discussion", deadline_days=-1)
    create_tavolo(plan=plan, title="Segreto in bozza", phase="draft")
    people = [create_user() for _ in range(4)]
    add_contributions(anziani, people, proposals=3, comments_each=2, votes_each=4)

    response = client.get(f"/piano/{plan.id}/")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<strong>triennale</strong>" in html and "<script>alert(1)" not in html
    assert "In concertazione" in html and "2025–2027" in html
    assert "Anziani" in html and "Povertà" in html and "Segreto in bozza" not in html
    assert "Aperto alle proposte" in html and "In discussione" in html
    assert "9 giorni rimasti" in html and "Termine per le proposte scaduto il" in html
    cards = html.split('class="card-wrapper card-space tavolo-card"')[1:]
    anziani_card = next(c for c in cards if "Anziani" in c)
    poverta_card = next(c for c in cards if "Povertà" in c)
    # 3 published proposals (hidden, pending and withdrawn ones are not counted), 6 comments, 4 people.
    assert "<dt>Proposte</dt><dd>3</dd>" in anziani_card
    assert "<dt>Commenti</dt><dd>6</dd>" in anziani_card
    assert "<dt>Partecipanti</dt><dd>4</dd>" in anziani_card
    assert "<dt>Proposte</dt><dd>0</dd>" in poverta_card and "<dt>Partecipanti</dt><dd>0</dd>" in poverta_card


def test_admins_see_draft_tavoli_on_the_plan_page(client, ambito, create_plan, create_tavolo, admin_user, login):
    plan = create_plan()
    create_tavolo(plan=plan, title="Segreto in bozza", phase="draft")
    login(admin_user)
    html = client.get(f"/piano/{plan.id}/").get_data(as_text=True)
    assert "Segreto in bozza" in html and "Bozza · non visibile al pubblico" in html


def test_adopted_plan_shows_its_deliberation(client, ambito, create_plan):
    plan = create_plan(status="adopted", adoption_reference="Deliberazione n. 4", adoption_date=date(2025, 6, 30))
    html = client.get(f"/piano/{plan.id}/").get_data(as_text=True)
    assert "Adottato con Deliberazione n. 4 del 30 giugno 2025." in html


@pytest.mark.parametrize("path", ["/piano/999999/", "/piano/abc/", "/piano/0/"])
def test_unknown_plan_is_404(client, ambito, path):
    assert client.get(path).status_code == 404


def test_plan_page_costs_the_same_queries_for_few_or_many_tavoli_and_contributions(
        client, ambito, create_plan, create_tavolo, create_user, count_queries, add_contributions):
    plan = create_plan()
    people = [create_user() for _ in range(3)]
    for i in range(2):
        add_contributions(create_tavolo(plan=plan, title=f"A{i}", moderation="pre"), people, proposals=1)
    url = f"/piano/{plan.id}/"  # counted below: the page's statements, not the test's own
    client.get(url)
    with count_queries() as few:
        client.get(url)
    for i in range(12):
        add_contributions(create_tavolo(plan=plan, title=f"B{i}", moderation="pre"), people, proposals=5,
                          comments_each=3, votes_each=3)
    with count_queries() as many:
        assert client.get(url).status_code == 200
    assert many.count == few.count


def test_counts_are_read_from_the_tavoli_not_recounted(client, ambito, create_plan, create_tavolo, create_user,
                                                       count_queries, add_contributions):
    """Every tavolo's figures come with the tavolo (its counters): no statement reads a proposal, a comment
    or a vote, but those behind the plan's own items (its provenance, none here)."""
    plan = create_plan()
    people = [create_user() for _ in range(2)]
    for i in range(3):
        add_contributions(create_tavolo(plan=plan, title=f"T{i}", moderation="pre"), people, proposals=2)
    with count_queries() as counter:
        html = client.get(f"/piano/{plan.id}/").get_data(as_text=True)
    assert html.count("<dt>Proposte</dt><dd>2</dd>") == 3
    statements = [s.lower() for s in counter.statements]
    assert not any(f"from {table}" in s and "plan_input" not in s
                   for s in statements for table in ("proposal", "comment", "vote"))
