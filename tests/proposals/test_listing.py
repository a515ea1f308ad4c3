"""Finding proposals on the tavolo page: filters, sort, search, pages, bad parameters."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from consulta.core import keyset
from consulta.core.db import utcnow
from consulta.extensions import db
from tests.proposals.conftest import make_cast, make_open_tavolo

CARD = re.compile(r'<h3 class="card-title h5 mb-2"><a href="/proposte/(\d+)/">(.*?)</a></h3>', re.S)


def listing(client, tavolo, expected_status=200, **params):
    response = client.get(f"/tavoli/{tavolo.slug}/", query_string=params)
    assert response.status_code == expected_status, response.get_data(as_text=True)[-3000:]
    html = response.get_data(as_text=True)
    return html[html.index('id="proposte"'):] if expected_status == 200 else html


def titles(html) -> list[str]:
    return [title for _, title in CARD.findall(html)]


@pytest.fixture
def spread(scene, create_user, create_organisation, create_tavolo, create_proposal, create_objective, insert_ballots,
           create_comment):
    """The open tavolo (tests/proposals/conftest.py's) with four proposals of different states, categories,
    objectives, supporters and comments: built once per worker and database, shared by the tests that read it."""

    def build():
        cast = make_cast(create_user, create_organisation)
        open_tavolo = make_open_tavolo(create_tavolo, cast)
        objective = create_objective(open_tavolo, title="Domiciliarità")
        coop = create_user(display_name="Cooperatrice")
        a = create_proposal(open_tavolo, cast.citizen, title="Centro diurno in città", body="Aperto anche d'estate.",
                            created_minutes_ago=40)
        b = create_proposal(open_tavolo, cast.representative, title="Trasporto sociale",
                            organisation=cast.organisation,
                            body="Un pulmino per le visite, copertura al 100% dei costi.", objective=objective,
                            created_minutes_ago=30)
        c = create_proposal(open_tavolo, coop, title="Sportello badanti", body="Un registro_pubblico delle assistenti.",
                            objective=objective, created_minutes_ago=20)
        d = create_proposal(open_tavolo, cast.citizen, title="Proposta ritirata", body="Non serve più.",
                            state="withdrawn", created_minutes_ago=10)
        insert_ballots(b, [("citizen", "for")] * 3 + [("citizen", "against")] * 5)
        insert_ballots(c, [("citizen", "for")])
        insert_ballots(a, [("citizen", "against")] * 2)
        for visibility, deleted in [("visible", False)] * 3 + [("hidden", False)] * 2 + [("visible", True)] * 2:
            create_comment(a, coop, body="Commento", visibility=visibility, deleted=deleted)
        create_comment(c, coop, body="Commento")
        return {"tavolo": open_tavolo, "a": a, "b": b, "c": c, "d": d, "objective": objective}

    return scene("proposals-listing-spread", build)


def test_the_tavolo_lists_its_proposals_newest_first_with_counts(client, spread):
    open_tavolo = spread["tavolo"]
    html = listing(client, open_tavolo)

    assert titles(html) == ["Proposta ritirata", "Sportello badanti", "Trasporto sociale", "Centro diurno in città"]
    assert "4 proposte" in html
    # Per card: state badge, author and category, objective, votes in favour, visible comments only.
    b_card = html[html.index("Trasporto sociale"):html.index("Centro diurno in città")]
    assert "Pubblicata" in b_card and "Auser Narni" in b_card and "Organizzazione di volontariato" in b_card
    assert "Domiciliarità" in b_card and "3 voti a favore" in b_card and "0 commenti" in b_card
    a_card = html[html.index("Centro diurno in città"):]
    assert "0 voti a favore" in a_card and "3 commenti" in a_card and "cittadino/a" in a_card
    assert "Ritirata" in html


def test_one_proposal_is_counted_in_the_singular(client, open_tavolo, cast, create_proposal):
    create_proposal(open_tavolo, cast.citizen)
    assert "1 proposta" in listing(client, open_tavolo)


def test_an_empty_tavolo_says_so(client, open_tavolo):
    html = listing(client, open_tavolo)
    assert "0 proposte" in html and "Ancora nessuna proposta" in html


def test_filter_by_state(client, spread):
    open_tavolo = spread["tavolo"]
    assert titles(listing(client, open_tavolo, stato="withdrawn")) == ["Proposta ritirata"]
    html = listing(client, open_tavolo, stato="approved")
    assert titles(html) == [] and "Nessun risultato" in html and "0 proposte trovate" in html


def test_filter_by_objective(client, spread):
    open_tavolo = spread["tavolo"]
    html = listing(client, open_tavolo, obiettivo=str(spread["objective"].id))
    assert titles(html) == ["Sportello badanti", "Trasporto sociale"]
    assert "2 proposte trovate" in html
    assert f'<option value="{spread["objective"].id}" selected>' in html


def test_filter_by_category_of_the_author(client, spread):
    open_tavolo = spread["tavolo"]
    assert titles(listing(client, open_tavolo, categoria="volunteer")) == ["Trasporto sociale"]
    assert titles(listing(client, open_tavolo, categoria="citizen")) == [
        "Proposta ritirata", "Sportello badanti", "Centro diurno in città"]
    assert titles(listing(client, open_tavolo, categoria="union")) == []


@pytest.mark.parametrize(("query", "expected"), [
    ("diurno", ["Centro diurno in città"]),
    ("CITTÀ", ["Centro diurno in città"]),            # case-insensitive beyond ASCII, on both databases
    ("PULMINO", ["Trasporto sociale"]),              # searches the text too
    ("100%", ["Trasporto sociale"]),                 # % is a literal percent sign
    ("%", ["Trasporto sociale"]),
    ("registro_pubblico", ["Sportello badanti"]),    # _ is a literal underscore
    ("registro_", ["Sportello badanti"]),
    ("_", ["Sportello badanti"]),
    ("\\", []),
    ("' OR 1=1 --", []),
    ("nulla di simile", []),
])
def test_text_search_over_title_and_text(client, spread, query, expected):
    open_tavolo = spread["tavolo"]
    html = listing(client, open_tavolo, q=query)
    assert titles(html) == expected
    if not expected:
        assert "Nessuna proposta corrisponde alla ricerca" in html


def test_search_finds_emoji_and_right_to_left_text(client, open_tavolo, cast, create_proposal):
    create_proposal(open_tavolo, cast.citizen, title="Famiglie 👩‍👩‍👧 insieme", body="خدمات لكبار السن")
    assert titles(listing(client, open_tavolo, q="👩‍👩‍👧")) == ["Famiglie 👩‍👩‍👧 insieme"]
    assert titles(listing(client, open_tavolo, q="لكبار")) == ["Famiglie 👩‍👩‍👧 insieme"]


def test_filters_combine(client, spread):
    open_tavolo = spread["tavolo"]
    html = listing(client, open_tavolo, obiettivo=str(spread["objective"].id), categoria="citizen", q="badanti")
    assert titles(html) == ["Sportello badanti"]


def test_sort_by_support_and_by_discussion(client, spread):
    open_tavolo = spread["tavolo"]
    assert titles(listing(client, open_tavolo, ordine="sostegno")) == [
        "Trasporto sociale", "Sportello badanti", "Proposta ritirata", "Centro diurno in città"]
    assert titles(listing(client, open_tavolo, ordine="discusse")) == [
        "Centro diurno in città", "Sportello badanti", "Proposta ritirata", "Trasporto sociale"]
    assert titles(listing(client, open_tavolo, ordine="recenti"))[0] == "Proposta ritirata"


def test_pages_of_twenty_and_pager_links_keep_the_filters(client, open_tavolo, cast, create_proposal):
    for n in range(25):
        create_proposal(open_tavolo, cast.citizen, title=f"Proposta numero {n:02d}", created_minutes_ago=100 - n)

    first = listing(client, open_tavolo, categoria="citizen")
    assert len(titles(first)) == 20 and titles(first)[0] == "Proposta numero 24"
    assert "25 proposte trovate" in first and "pagina 1 di 2" in first
    assert re.search(r'href="/tavoli/anziani/\?categoria=citizen&amp;page=2#proposte"', first)

    second = listing(client, open_tavolo, categoria="citizen", page="2")
    assert titles(second) == [f"Proposta numero {n:02d}" for n in range(4, -1, -1)]

    small = listing(client, open_tavolo, per_page="10", page="3")
    assert len(titles(small)) == 5
    assert re.search(r'href="/tavoli/anziani/\?per_page=10&amp;page=2#proposte"', small)


def test_a_page_past_the_end_is_empty_not_an_error(client, open_tavolo, cast, create_proposal):
    create_proposal(open_tavolo, cast.citizen)
    html = listing(client, open_tavolo, page="9")
    assert titles(html) == [] and "Questa pagina non contiene proposte." in html


@pytest.mark.parametrize(("params", "message"), [
    ({"stato": "pubblicata"}, "Lo stato scelto non esiste."),
    ({"stato": "published' OR '1'='1"}, "Lo stato scelto non esiste."),
    ({"categoria": "martians"}, "La categoria scelta non esiste."),
    ({"ordine": "title; DROP TABLE proposal"}, "L&#39;ordinamento scelto non esiste."),
    ({"ordine": "id"}, "L&#39;ordinamento scelto non esiste."),
    ({"page": "abc"}, "Numero di pagina non valido."),
    ({"page": "0"}, "Numero di pagina non valido."),
    ({"page": "-1"}, "Numero di pagina non valido."),
    ({"page": "1.5"}, "Numero di pagina non valido."),
    ({"page": "99999999999999999999"}, "Numero di pagina non valido."),
    ({"per_page": "0"}, "Il numero di proposte per pagina deve essere fra 1 e 100."),
    ({"per_page": "101"}, "Il numero di proposte per pagina deve essere fra 1 e 100."),
    ({"per_page": "tanti"}, "Il numero di proposte per pagina deve essere fra 1 e 100."),
    ({"obiettivo": "abc"}, "L&#39;obiettivo scelto non è valido."),
    ({"obiettivo": "987654"}, "L&#39;obiettivo scelto non appartiene a questo tavolo."),
    ({"q": "x" * 201}, "Il testo da cercare può avere al massimo 200 caratteri."),
])
def test_each_bad_parameter_is_a_400_with_a_clear_message(client, spread, params, message):
    open_tavolo = spread["tavolo"]
    html = listing(client, open_tavolo, expected_status=400, **params)
    assert "Richiesta non valida" in html
    assert message in html


def test_objectives_of_another_tavolo_or_in_draft_are_refused(client, open_tavolo, create_tavolo, create_objective):
    foreign = create_objective(create_tavolo(slug="giovani"), title="Altrui")
    draft = create_objective(open_tavolo, title="Bozza", status="draft")
    for objective in (foreign, draft):
        html = listing(client, open_tavolo, expected_status=400, obiettivo=str(objective.id))
        assert "non appartiene a questo tavolo" in html


def test_page_size_is_bounded_by_the_setting(client, open_tavolo, cast, create_proposal, app):
    create_proposal(open_tavolo, cast.citizen)
    app.config["MAX_PER_PAGE"] = 50
    try:
        listing(client, open_tavolo, expected_status=400, per_page="51")
        listing(client, open_tavolo, per_page="50")
    finally:
        app.config["MAX_PER_PAGE"] = 100


def test_only_what_the_reader_may_see_is_listed(client, cast, create_tavolo, create_proposal, create_user):
    tavolo = create_tavolo(slug="anziani", moderation="pre", facilitators=[cast.facilitator])
    create_proposal(tavolo, cast.citizen, title="Pubblica", created_minutes_ago=30)
    create_proposal(tavolo, cast.citizen, title="Mia in attesa", state="submitted", created_minutes_ago=20)
    create_proposal(tavolo, create_user(), title="Altrui in attesa", state="submitted", created_minutes_ago=10)
    create_proposal(tavolo, create_user(), title="Titolo nascosto", body="dati personali di Mario",
                    visibility="hidden", hide_reason="personal_data", created_minutes_ago=5)

    public = listing(client, tavolo)
    assert titles(public) == ["Proposta nascosta dal moderatore", "Pubblica"]
    assert "Titolo nascosto" not in public and "dati personali di terzi" in public
    assert "2 proposte" in public
    # A search must not reveal hidden text.
    assert titles(listing(client, tavolo, q="Mario")) == []

    client.login(cast.citizen)
    assert titles(listing(client, tavolo)) == ["Proposta nascosta dal moderatore", "Mia in attesa", "Pubblica"]
    assert titles(listing(client, tavolo, stato="submitted")) == ["Mia in attesa"]
    client.logout()

    client.login(cast.facilitator)
    assert titles(listing(client, tavolo)) == ["Titolo nascosto", "Altrui in attesa", "Mia in attesa", "Pubblica"]
    assert titles(listing(client, tavolo, q="Mario")) == ["Titolo nascosto"]


def test_the_filter_form_is_a_labelled_get_form(client, spread):
    open_tavolo = spread["tavolo"]
    html = listing(client, open_tavolo, q="diurno", ordine="sostegno")
    form = html[html.index("<form"):html.index("</form>")]
    assert 'method="get"' in form and 'role="search"' in form
    for field_id, label in [("proposte-q", "Cerca nel titolo e nel testo"), ("proposte-stato", "Stato"),
                            ("proposte-obiettivo", "Obiettivo"), ("proposte-categoria", "Categoria di chi propone"),
                            ("proposte-ordine", "Ordina per")]:
        assert f'<label for="{field_id}"' in form and label in form
    assert 'value="diurno"' in form and '<option value="sostegno" selected>' in form
    assert "Azzera i filtri" in form


def test_published_date_orders_the_list(client, open_tavolo, cast, create_proposal):
    old = create_proposal(open_tavolo, cast.citizen, title="Presentata prima, pubblicata dopo",
                          created_minutes_ago=60)
    create_proposal(open_tavolo, cast.citizen, title="Presentata dopo", created_minutes_ago=30)
    old.published_at = old.created_at + timedelta(minutes=45)
    db.session.commit()
    assert titles(listing(client, open_tavolo))[0] == "Presentata prima, pubblicata dopo"


# --------------------------------------------------------------------------- "next page" links (keyset)

NEXT = re.compile(r'<a href="([^"]+)" rel="next">Pagina successiva')


def walk_next_links(client, url) -> list[list[str]]:
    """The titles of each page met following "Pagina successiva" from `url` to the last page."""
    pages = []
    while url:
        html = client.get(url).get_data(as_text=True)
        pages.append(titles(html))
        found = NEXT.search(html)
        url = found.group(1).replace("&amp;", "&").split("#")[0] if found else None
    return pages


@pytest.fixture
def ties(scene, create_user, create_organisation, create_tavolo, create_proposal, insert_ballots, create_comment):
    """The open tavolo with nine proposals, ties everywhere: three proposals share each date, support and
    discussion repeat; the id decides. Built once per worker and database, shared by the three orders."""

    def build():
        cast = make_cast(create_user, create_organisation)
        open_tavolo = make_open_tavolo(create_tavolo, cast)
        moment = utcnow() - timedelta(hours=1)
        for n in range(9):
            proposal = create_proposal(open_tavolo, cast.citizen, title=f"Proposta {n}")
            proposal.published_at = moment + timedelta(minutes=n // 3)
            insert_ballots(proposal, [("citizen", "for")] * (n % 3))
            for _ in range(n % 2):
                create_comment(proposal, create_user())
        db.session.commit()
        return open_tavolo

    return scene("proposals-listing-ties", build)


@pytest.mark.parametrize("order", ["recenti", "sostegno", "discusse"])
def test_next_links_walk_every_proposal_once_in_the_order_of_the_page_numbers(client, ties, order):
    open_tavolo = ties
    by_link = walk_next_links(client, f"/tavoli/{open_tavolo.slug}/?ordine={order}&per_page=2")
    by_number = [titles(listing(client, open_tavolo, ordine=order, per_page="2", page=str(n))) for n in range(1, 6)]

    assert by_link == by_number
    assert sorted(sum(by_link, [])) == [f"Proposta {n}" for n in range(9)]
    last = client.get(f"/tavoli/{open_tavolo.slug}/?ordine={order}&per_page=2&page=5").get_data(as_text=True)
    assert "pagina 5 di 5" in last and 'rel="next"' not in last


def test_a_next_link_shows_the_page_number_and_keeps_the_filters(client, open_tavolo, cast, create_proposal):
    for n in range(5):
        create_proposal(open_tavolo, cast.citizen, title=f"Proposta {n}", created_minutes_ago=10 - n)
    html = listing(client, open_tavolo, categoria="citizen", per_page="2")
    link = NEXT.search(html).group(1).replace("&amp;", "&")
    assert link.startswith(f"/tavoli/{open_tavolo.slug}/?categoria=citizen&per_page=2&dopo=")
    second = client.get(link).get_data(as_text=True)
    assert "pagina 2 di 3" in second and titles(second) == ["Proposta 2", "Proposta 1"]
    # The pager around it still offers the page numbers, without the cursor.
    assert re.search(r'href="/tavoli/anziani/\?categoria=citizen&amp;per_page=2&amp;page=1#proposte"', second)


def test_a_cursor_that_is_not_ours_is_a_400_never_a_500(client, app, open_tavolo, cast, create_proposal):
    create_proposal(open_tavolo, cast.citizen)
    with app.app_context():
        for_recent = keyset.encode("proposals.recenti", 2, [utcnow(), 1])
        cursors = [
            "", "x", "W10", for_recent[:-2] + "zz",  # not signed by us, or tampered with
            keyset.encode("proposals.recenti", 1, [utcnow(), 1]),  # page 1 has no cursor
            keyset.encode("proposals.recenti", 2, ["ieri", 1]),  # not a date
            keyset.encode("proposals.recenti", 2, [utcnow(), 2**40]),  # beyond an id
            keyset.encode("proposals.recenti", 2, [utcnow()]),  # a key short
        ]
    for cursor in cursors:
        html = listing(client, open_tavolo, expected_status=400, dopo=cursor)
        assert "Il collegamento alla pagina successiva non è valido" in html
    # A cursor is for one order only; for its own, it lists what comes after it (here: older than now).
    listing(client, open_tavolo, expected_status=400, dopo=for_recent, ordine="sostegno")
    assert titles(listing(client, open_tavolo, dopo=for_recent)) == ["Un centro diurno per gli anziani"]
