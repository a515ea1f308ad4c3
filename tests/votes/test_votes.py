"""Votes on proposals and objectives: cast, change, withdraw, organisation mode, tallies and the chart."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from consulta.extensions import db
from consulta.votes.models import Vote


@pytest.fixture
def render_panel(app):
    """The vote panel partial as `user` sees it, rendered in a request like the subject pages do."""
    from flask import g, render_template_string
    from flask_login import current_user, login_user

    from consulta.votes.tally import vote_panel

    def render(subject, user=None):
        with app.test_request_context("/"):
            g.pop("_login_user", None)  # `g` outlives the request here: forget who rendered before
            if user is not None:
                login_user(user)
            db.session.expire_all()
            return render_template_string('{% include "votes/_panel.html" %}',
                                          panel=vote_panel(subject, current_user), subject=subject)

    return render


@pytest.fixture
def proposal(tavolo, cast, create_proposal):
    return create_proposal(tavolo, cast.admin, title="Trasporto sociale per le visite mediche")


def votes_on(subject):
    column = Vote.proposal_id if subject.__tablename__ == "proposal" else Vote.objective_id
    return db.session.execute(select(Vote).where(column == subject.id).order_by(Vote.id)).scalars().all()


def vote(client, subject, value, **kwargs):
    kind = "proposte" if subject.__tablename__ == "proposal" else "obiettivi"
    return client.post(f"/{kind}/{subject.id}/voto", data={"value": value}, **kwargs)


def flashes(client):
    with client.session_transaction() as sess:
        return [message for _, message in sess.get("_flashes", [])]


# --------------------------------------------------------------------------- cast, change, withdraw

def test_participant_votes_changes_and_withdraws(client, cast, proposal, render_panel):
    client.login(cast.participant)

    response = vote(client, proposal, "for")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/proposte/{proposal.id}/#voti"
    assert "Voto registrato: Favorevole." in flashes(client)
    [ballot] = votes_on(proposal)
    assert (ballot.ballot_key, ballot.voter_id, ballot.category, ballot.value, ballot.organisation_id) == (
        f"person:{cast.participant.id}", cast.participant.id, "citizen", "for", None)
    assert ballot.tavolo_id == proposal.tavolo_id
    html = render_panel(proposal, cast.participant)
    assert "Voto attuale: Favorevole." in html and "Ritira il voto" in html
    assert "1 favorevole" in html

    assert vote(client, proposal, "against").status_code == 302
    [changed] = votes_on(proposal)
    assert changed.id == ballot.id and changed.value == "against"

    assert vote(client, proposal, "remove").status_code == 302
    assert votes_on(proposal) == []
    assert "Voto ritirato." in flashes(client)
    assert vote(client, proposal, "remove").status_code == 302  # nothing to withdraw is not an error
    assert "Non c'era un voto da ritirare." in flashes(client)
    assert "Non hai ancora votato." in render_panel(proposal, cast.participant)


def test_vote_on_a_published_objective(client, cast, tavolo, create_objective):
    objective = create_objective(tavolo)
    client.login(cast.participant)
    response = vote(client, objective, "abstain")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/tavoli/{tavolo.slug}/obiettivi/{objective.id}/#voti"
    [ballot] = votes_on(objective)
    assert ballot.objective_id == objective.id and ballot.proposal_id is None and ballot.value == "abstain"


@pytest.mark.parametrize("status, expected", [("draft", 404), ("approved", 409), ("dropped", 409)])
def test_objective_not_published_takes_no_votes(client, cast, tavolo, create_objective, status, expected):
    objective = create_objective(tavolo, status=status)
    client.login(cast.participant)
    response = vote(client, objective, "for")
    assert response.status_code == expected
    assert votes_on(objective) == []


def test_withdrawn_proposal_takes_no_votes(client, cast, tavolo, create_proposal):
    withdrawn = create_proposal(tavolo, cast.representative, state="withdrawn")
    client.login(cast.participant)
    response = vote(client, withdrawn, "for")
    assert response.status_code == 409
    assert "non si può votare nel suo stato attuale" in response.get_data(as_text=True)


@pytest.mark.parametrize("value", ["", "yes", "FOR", "for ", "<script>", "favorevole"])
def test_unknown_vote_value_is_refused(client, cast, proposal, value):
    client.login(cast.participant)
    response = vote(client, proposal, value)
    assert response.status_code == 400
    assert "Scegli un voto valido" in response.get_data(as_text=True)
    assert votes_on(proposal) == []


def test_vote_without_csrf_token_is_refused(client, cast, proposal):
    client.login(cast.participant)
    assert vote(client, proposal, "for", csrf=False).status_code == 400
    assert votes_on(proposal) == []


@pytest.mark.parametrize("url", ["/proposte/999999/voto", "/obiettivi/999999/voto", "/proposte/x/voto"])
def test_vote_on_unknown_subject_is_404(client, cast, url):
    client.login(cast.participant)
    assert client.post(url, data={"value": "for"}).status_code == 404


@pytest.mark.parametrize("role, message", [
    ("unverified", "Per votare devi prima verificare il tuo indirizzo e-mail."),
    ("blocked", "Il tuo account è sospeso: puoi leggere ma non votare."),
])
def test_unverified_and_blocked_users_cannot_vote(as_role, cast, proposal, render_panel, role, message):
    response = vote(as_role(role), proposal, "for")
    assert response.status_code == 403
    assert message in response.get_data(as_text=True)
    assert votes_on(proposal) == []
    html = render_panel(proposal, cast.get(role))
    assert message in html and 'name="value"' not in html


def test_anonymous_voter_is_sent_to_login(client, proposal, render_panel):
    response = vote(client, proposal, "for")
    assert response.status_code == 302 and response.headers["Location"].startswith("/accedi")
    assert "Accedi per votare" in render_panel(proposal)


def test_person_mode_representative_votes_as_a_person_in_the_organisations_category(client, cast, proposal):
    client.login(cast.representative)
    vote(client, proposal, "for")
    [ballot] = votes_on(proposal)
    assert ballot.ballot_key == f"person:{cast.representative.id}"
    assert ballot.category == "social_coop" and ballot.organisation_id is None


# --------------------------------------------------------------------------- organisation mode

@pytest.fixture
def org_proposal(create_tavolo, create_proposal, cast):
    tavolo = create_tavolo(slug="disabilita", vote_mode="organisation", facilitators=[cast.facilitator])
    return create_proposal(tavolo, cast.admin, title="Dopo di noi")


def test_organisation_mode_the_representative_votes_once_for_the_organisation(
        client, cast, create_user, org_proposal, render_panel):
    client.login(cast.representative)
    response = vote(client, org_proposal, "for")
    assert response.status_code == 302
    assert "Voto registrato per Cooperativa Sociale Il Ponte: Favorevole." in flashes(client)
    [ballot] = votes_on(org_proposal)
    assert ballot.ballot_key == f"organisation:{cast.organisation.id}"
    assert (ballot.organisation_id, ballot.category, ballot.voter_id) == (
        cast.organisation.id, "social_coop", cast.representative.id)
    html = render_panel(org_proposal, cast.representative)
    assert "Il voto di Cooperativa Sociale Il Ponte" in html and "Voto attuale: Favorevole." in html

    # A second representative of the same organisation changes the organisation's one ballot.
    deputy = create_user(email="vice@example.org", display_name="Vice Rappresentante", organisation=cast.organisation)
    client.logout()
    client.login(deputy)
    assert "Voto attuale: Favorevole." in render_panel(org_proposal, deputy)
    vote(client, org_proposal, "against")
    [ballot] = votes_on(org_proposal)
    assert ballot.value == "against" and ballot.voter_id == deputy.id


@pytest.mark.parametrize("role", ["participant", "member"])
def test_organisation_mode_refuses_citizens_and_plain_members(as_role, cast, org_proposal, render_panel, role):
    response = vote(as_role(role), org_proposal, "for")
    assert response.status_code == 403
    assert "votano le organizzazioni" in response.get_data(as_text=True)
    assert votes_on(org_proposal) == []
    assert "votano le organizzazioni" in render_panel(org_proposal, cast.get(role))


def test_organisation_of_an_unverified_organisation_cannot_vote(client, create_user, create_organisation,
                                                                 org_proposal):
    pending = create_organisation(name="In attesa", status="pending")
    rep = create_user(organisation=pending)
    client.login(rep)
    assert vote(client, org_proposal, "for").status_code == 403
    assert votes_on(org_proposal) == []


# --------------------------------------------------------------------------- tallies

def test_tally_by_category_equals_what_was_cast(client, cast, proposal, create_user, create_organisation,
                                                render_panel):
    from consulta.votes.tally import tally

    union = create_organisation(name="CGIL Terni", type="union")
    aps = create_organisation(name="ARCI Amelia", type="aps")
    ballots = [
        (cast.participant, "for"), (create_user(), "for"), (create_user(), "against"),
        (cast.representative, "for"), (create_user(organisation=cast.organisation), "abstain"),
        (create_user(organisation=union), "against"), (create_user(organisation=aps), "for"),
    ]
    for user, value in ballots:
        client.login(user)
        assert vote(client, proposal, value).status_code == 302
        client.logout()

    result = tally(proposal)
    assert (result.totals.for_, result.totals.against, result.totals.abstain, result.total) == (4, 2, 1, 7)
    rows = {row.category: (row.for_, row.against, row.abstain) for row in result.by_category}
    assert rows == {
        "union": (0, 1, 0), "social_coop": (1, 0, 1), "volunteer": (0, 0, 0), "aps": (1, 0, 0),
        "third_sector_other": (0, 0, 0), "public_body": (0, 0, 0), "other": (0, 0, 0), "citizen": (2, 1, 0),
    }
    from consulta.organisations.models import CATEGORIES

    assert [row.category for row in result.by_category] == list(CATEGORIES)

    html = render_panel(proposal)
    assert "7 voti" in html and "4 favorevoli · 2 contrari · 1 astenuto" in html
    table = html[html.index("<table"):html.index("</table>")]
    assert "<caption>Voti per categoria di portatori di interesse</caption>" in table
    assert '<th scope="col">Categoria</th>' in table
    cells = re.findall(r'<th scope="row">([^<]+)</th>\s*<td>(\d+)</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td>',
                       table)
    assert ("Cooperativa sociale", "1", "0", "1", "2") in cells
    assert ("Cittadino/a", "2", "1", "0", "3") in cells
    assert ("Ente pubblico", "0", "0", "0", "0") in cells
    assert len(cells) == 8
    assert re.search(r'<th scope="row">Totale</th>\s*<td>4</td><td>2</td>\s*<td>1</td><td>7</td>', table)


def _is_vote_statement(sql: str) -> bool:
    return bool(re.search(r"\bFROM vote\b", sql, re.IGNORECASE))


@pytest.mark.parametrize("n_votes", [5, 200])
def test_tally_costs_one_grouped_query_whatever_the_number_of_votes(cast, proposal, insert_ballots, count_queries,
                                                                    n_votes):
    from consulta.organisations.models import CATEGORIES
    from consulta.votes.tally import tally

    insert_ballots(proposal, [(CATEGORIES[i % len(CATEGORIES)], ("for", "against", "abstain")[i % 3])
                              for i in range(n_votes)])
    db.session.refresh(proposal)
    with count_queries() as counter:
        result = tally(proposal)
    assert result.total == n_votes
    assert counter.count == 1
    [sql] = counter.statements
    # Counted by the database, never loaded: the statement groups and counts, it selects no vote columns.
    assert "GROUP BY" in sql.upper() and "count(" in sql.lower()
    assert "vote.ballot_key" not in sql and "vote.voter_id" not in sql


def test_panel_costs_the_same_for_5_and_200_votes(app, cast, tavolo, create_proposal, insert_ballots, count_queries):
    from flask import g, render_template_string
    from flask_login import current_user, login_user

    from consulta.organisations.models import CATEGORIES
    from consulta.votes.tally import vote_panel

    def build(n):
        subject = create_proposal(tavolo, cast.admin, title=f"{n} voti")
        insert_ballots(subject, [(CATEGORIES[i % len(CATEGORIES)], ("for", "against", "abstain")[i % 3])
                                 for i in range(n)])
        return subject

    def cost(subject):
        with app.test_request_context("/"):
            g.pop("_login_user", None)
            login_user(cast.representative)
            db.session.expire_all()
            with count_queries() as counter:
                render_template_string('{% include "votes/_panel.html" %}',
                                       panel=vote_panel(subject, current_user), subject=subject)
            vote_statements = [s for s in counter.statements if _is_vote_statement(s)]
            return counter.count, vote_statements

    small, large = build(5), build(200)
    small_cost, _ = cost(small)
    large_cost, statements = cost(large)
    assert small_cost == large_cost <= 8
    # One grouped tally and one look-up of the user's own ballot.
    assert len(statements) == 2
    assert "GROUP BY" in statements[0].upper()


def test_tallies_for_many_proposals_in_one_query(cast, tavolo, create_proposal, insert_ballots, count_queries):
    from consulta.votes.tally import tallies_for

    first, second, silent = (create_proposal(tavolo, cast.admin, title=t) for t in ("A", "B", "C"))
    insert_ballots(first, [("citizen", "for"), ("citizen", "for"), ("citizen", "against")])
    insert_ballots(second, [("citizen", "abstain")])
    ids = [first.id, second.id, silent.id]
    with count_queries() as counter:
        totals = tallies_for("proposal", ids)
    assert counter.count == 1
    assert (totals[first.id].for_, totals[first.id].against, totals[first.id].total) == (2, 1, 3)
    assert totals[second.id].abstain == 1 and totals[silent.id].total == 0
    assert tallies_for("proposal", []) == {}
    with pytest.raises(ValueError):
        tallies_for("comment", ids)


# --------------------------------------------------------------------------- the chart

class _SvgReader(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        if data.strip():
            self.texts.append(data.strip())


def test_chart_is_an_accessible_svg_with_words_not_only_colours(app, cast, proposal, insert_ballots):
    from consulta.votes.chart import category_chart
    from consulta.votes.tally import tally

    insert_ballots(proposal, [("citizen", "for"), ("citizen", "against"), ("union", "for")])
    with app.test_request_context("/"):
        svg = str(category_chart(tally(proposal), chart_id="grafico-prova"))
    reader = _SvgReader()
    reader.feed(svg)
    root_tag, root = reader.tags[0]
    assert root_tag == "svg" and root["role"] == "img"
    assert root["aria-labelledby"] == "grafico-prova-titolo grafico-prova-descrizione"
    assert ("title", {"id": "grafico-prova-titolo"}) in reader.tags
    assert ("desc", {"id": "grafico-prova-descrizione"}) in reader.tags
    assert "style" not in svg  # the CSP forbids inline styles
    assert "Voti per categoria di portatori di interesse" in reader.texts
    description = next(t for t in reader.texts if t.startswith("Totale"))
    assert "Cittadino/a: 1 favorevole · 1 contrario · 0 astenuti." in description
    assert "Organizzazione sindacale: 1 favorevole · 0 contrari · 0 astenuti." in description
    # The figures are written out beside each bar, and the legend names the colours.
    assert "1 favorevole · 1 contrario · 0 astenuti" in reader.texts
    assert {"Favorevoli", "Contrari", "Astenuti"} <= set(reader.texts)
    # Categories without votes get no bar but are named in the description.
    assert "Cooperativa sociale" not in reader.texts and "Cooperativa sociale" in description


def test_chart_escapes_labels(app, cast, proposal, insert_ballots):
    from consulta.votes.chart import category_chart
    from consulta.votes.tally import tally

    # A category unknown to the labels (e.g. left by an old release) is shown by its key: escaped.
    insert_ballots(proposal, [("<b>x</b>&", "for")])
    with app.test_request_context("/"):
        svg = str(category_chart(tally(proposal), chart_id='"><script>'))
    assert "<b>" not in svg and "<script>" not in svg
    assert "&lt;b&gt;x&lt;/b&gt;&amp;" in svg


def test_no_chart_before_the_first_vote(proposal, render_panel):
    html = render_panel(proposal)
    assert "Ancora nessun voto." in html and "<svg" not in html.replace('<svg class="icon', "")
    assert "<table" not in html


def test_panel_shows_the_chart_and_the_table(cast, proposal, insert_ballots, render_panel):
    insert_ballots(proposal, [("aps", "for")])
    html = render_panel(proposal, cast.participant)
    assert 'class="tally-chart"' in html and 'role="img"' in html
    assert '<div class="visually-hidden">\n  <table class="table table-sm vote-table">' in html
    for label in ("Favorevole", "Contrario", "Astenuto"):
        assert re.search(rf'<button type="submit" name="value" value="\w+"\s+class="btn btn-outline-\w+">\s*{label}',
                         html)
