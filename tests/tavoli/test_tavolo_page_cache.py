"""The tavolo page's content is rendered once per content for visitors who are not signed in
(consulta/tavoli/views.py `show`, consulta/core/fragments.py): any change of what it shows is on the page
at the next request, whoever made it and however; the clock's own changes (a deadline passing) too;
signed-in people always get the page rendered for them; a kept page is the page rendered afresh."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from consulta.core import templating
from consulta.core.db import utcnow
from consulta.core.fragments import Uncacheable, cached, content_digest, fragments
from consulta.extensions import db
from consulta.tavoli import models as tavoli_models

BODY = "tavoli/_show_body.html"


@pytest.fixture
def bodies_rendered(renders_of):
    """How many times the page's content has been rendered so far."""
    return renders_of(BODY)


@pytest.fixture
def lively(tavolo, create_user, create_organisation, create_proposal, create_objective, create_meeting, create_seat,
           facilitator):
    """A tavolo with a facilitator, an objective, a proposal by an association, a meeting and a member."""
    tavolo.facilitators.append(facilitator)
    db.session.commit()
    association = create_organisation(name="Auser Narni", type="volunteer")
    author = create_user(email="marta@example.org", display_name="Marta Ricci", organisation=association)
    objective = create_objective(tavolo, title="Più assistenza domiciliare")
    proposal = create_proposal(tavolo, author, title="Un centro diurno a Narni", organisation=association,
                               objective=objective)
    create_meeting(tavolo, title="Primo incontro del tavolo")
    seat = create_seat(tavolo, name="Cooperativa Il Ponte")
    return {"tavolo": tavolo, "author": author, "association": association, "objective": objective,
            "proposal": proposal, "seat": seat}


def page(client, tavolo, query: str = "") -> str:
    response = client.get(f"/tavoli/{tavolo.slug}/{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def content(html: str) -> str:
    """The part the cache keeps: from the breadcrumbs to the end of the main column."""
    return html.split('<nav class="breadcrumb-container"', 1)[1].split("</main>", 1)[0]


def kept(client, tavolo, bodies_rendered, query: str = "") -> str:
    """The page once its content is kept: the first request renders it, the second reads it."""
    page(client, tavolo, query)
    rendered = bodies_rendered()
    html = page(client, tavolo, query)
    assert bodies_rendered() == rendered, "the second request rendered the content again"
    return html


def fresh(client, tavolo, query: str = "") -> str:
    """The page as a worker that has not kept anything renders it."""
    fragments().clear()
    return page(client, tavolo, query)


def words(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# --------------------------------------------------------------------------- kept, and the same

def test_a_visitor_gets_the_content_rendered_once(client, lively, bodies_rendered):
    tavolo = lively["tavolo"]
    first = page(client, tavolo)
    second = page(client, tavolo)
    third = page(client, tavolo)
    assert bodies_rendered() == 1
    assert first == second == third
    assert "Un centro diurno a Narni" in first and "Primo incontro del tavolo" in first
    assert "Cooperativa Il Ponte" in first and "Chiara Benedetti" in first


def test_a_kept_page_is_the_page_rendered_afresh(client, lively, bodies_rendered):
    tavolo = lively["tavolo"]
    assert kept(client, tavolo, bodies_rendered) == fresh(client, tavolo)


def test_each_query_string_is_a_page_of_its_own(client, tavolo, create_user, create_proposal, bodies_rendered):
    author = create_user()
    for number in range(1, 23):
        create_proposal(tavolo, author, title=f"Proposta numero {number:02d}", created_minutes_ago=100 - number)
    first = kept(client, tavolo, bodies_rendered)
    second = kept(client, tavolo, bodies_rendered, "?page=2")
    found = kept(client, tavolo, bodies_rendered, "?q=numero+01")
    assert "Proposta numero 22" in first and "Proposta numero 01" not in first
    assert "Proposta numero 01" in second and "Proposta numero 22" not in second
    assert "1 proposta trovata" in words(found) and "Proposta numero 02" not in found
    assert len(fragments()) == 3


def test_the_content_holds_no_form_token(client, lively, bodies_rendered):
    html = kept(client, lively["tavolo"], bodies_rendered)
    assert "csrf_token" not in content(html)


# --------------------------------------------------------------------------- every change shows at once

def _vote(s, f):
    f["create_vote"](s["proposal"], f["create_user"](email="voto@example.org"))


def _comment(s, f):
    f["create_comment"](s["proposal"], f["create_user"](email="commento@example.org"), body="Giusto.")


def _new_proposal(s, f):
    f["create_proposal"](s["tavolo"], s["author"], title="Trasporto sociale per le frazioni")


def _answer(s, f):
    from consulta.proposals import operations
    operations.answer_proposal(s["proposal"], s["tavolo"].facilitators[0], outcome="approved",
                               motivation="La proposta entra nel piano.")
    db.session.commit()


def _hide(s, f):
    from consulta.moderation import operations
    operations.hide(s["proposal"], s["tavolo"].facilitators[0], reason="off_topic")
    db.session.commit()


def _author_renamed(s, f):
    s["author"].display_name = "Marta Ricci Bianchi"
    db.session.commit()


def _association_renamed(s, f):
    s["association"].name = "Auser Narni e Amelia"
    db.session.commit()


def _member_renamed(s, f):
    s["seat"].organisation.name = "Cooperativa Il Ponte Nuovo"
    db.session.commit()


def _objective(s, f):
    f["create_objective"](s["tavolo"], title="Sostegno alle famiglie che assistono")


def _meeting(s, f):
    f["create_meeting"](s["tavolo"], title="Secondo incontro del tavolo", starts_in=timedelta(days=20))


def _tavolo_edited(s, f):
    s["tavolo"].description = "Il tavolo si riunisce a Narni."
    s["tavolo"].description_html = "<p>Il tavolo si riunisce a Narni.</p>"
    db.session.commit()


def _plan_retitled(s, f):
    s["tavolo"].plan.title = "Piano di Zona 2026–2028"
    db.session.commit()


def _facilitator_renamed(s, f):
    s["tavolo"].facilitators[0].display_name = "Chiara Benedetti Rossi"
    db.session.commit()


CHANGES = {
    "a vote": (_vote, "1 voto a favore"),
    "a comment": (_comment, "1 commento"),
    "a new proposal": (_new_proposal, "Trasporto sociale per le frazioni"),
    "an answer": (_answer, "Stato: Accolta"),
    "a proposal hidden": (_hide, "Proposta nascosta dal moderatore"),
    "the author renamed": (_author_renamed, "Marta Ricci Bianchi"),
    "the association renamed": (_association_renamed, "Auser Narni e Amelia"),
    "a member renamed": (_member_renamed, "Cooperativa Il Ponte Nuovo"),
    "a new objective": (_objective, "Sostegno alle famiglie che assistono"),
    "a new meeting": (_meeting, "Secondo incontro del tavolo"),
    "the tavolo edited": (_tavolo_edited, "Il tavolo si riunisce a Narni."),
    "the plan retitled": (_plan_retitled, "Piano di Zona 2026–2028"),
    "a facilitator renamed": (_facilitator_renamed, "Chiara Benedetti Rossi"),
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_change_shows_at_the_next_request(change, client, lively, bodies_rendered, request):
    make, shown = CHANGES[change]
    factories = {name: request.getfixturevalue(name) for name in (
        "create_vote", "create_user", "create_comment", "create_proposal", "create_objective", "create_meeting")}
    tavolo = lively["tavolo"]
    before = kept(client, tavolo, bodies_rendered)
    assert shown not in words(before)

    make(lively, factories)
    after = page(client, tavolo)
    assert shown in words(after)
    assert after == fresh(client, tavolo)


def test_a_deadline_passing_shows_without_any_write(client, tavolo, bodies_rendered, monkeypatch):
    tavolo.proposal_deadline = utcnow() + timedelta(hours=30)
    db.session.commit()
    before = words(kept(client, tavolo, bodies_rendered))
    assert "(2 giorni rimasti)" in before and "scaduto" not in before

    later = utcnow() + timedelta(hours=20)
    monkeypatch.setattr(templating, "utcnow", lambda: later)
    assert "(1 giorno rimasto)" in words(page(client, tavolo))

    much_later = utcnow() + timedelta(hours=31)
    monkeypatch.setattr(tavoli_models, "utcnow", lambda: much_later)
    monkeypatch.setattr(templating, "utcnow", lambda: much_later)
    after = words(page(client, tavolo))
    assert "Termine per le proposte scaduto" in after and "Presenta una proposta" not in after


# --------------------------------------------------------------------------- signed-in people

def test_signed_in_people_get_the_page_rendered_for_them(client, login, lively, facilitator, create_user,
                                                         bodies_rendered):
    tavolo = lively["tavolo"]
    anonymous = kept(client, tavolo, bodies_rendered)
    assert "Segui il tavolo" not in anonymous and "Strumenti" not in anonymous

    login(create_user(email="lucia@example.org"))
    participant = page(client, tavolo)
    page(client, tavolo)
    assert "Segui il tavolo" in participant and "Presenta una proposta" in participant
    assert "Strumenti" not in participant

    login(facilitator)
    assert "Coda di moderazione" in page(client, tavolo)
    assert len(fragments()) == 1  # only the visitors' page is kept
    assert bodies_rendered() == 4


# --------------------------------------------------------------------------- the digest

def test_the_digest_follows_what_is_loaded_and_refuses_what_it_cannot_read(app, lively):
    proposal = lively["proposal"]
    first = content_digest([proposal], {"total": 1})
    assert content_digest([proposal], {"total": 1}) == first
    assert content_digest([proposal], {"total": 2}) != first
    proposal.title = "Un altro titolo"
    assert content_digest([proposal], {"total": 1}) != first
    db.session.rollback()

    with pytest.raises(Uncacheable):
        content_digest({"something": object()})
    rendered = []
    html = cached(lambda: ("k", content_digest(object())), lambda: rendered.append(1) or "<p>x</p>")
    assert html == "<p>x</p>" and rendered == [1] and len(fragments()) == 0


# --------------------------------------------------------------------------- the objective page

def test_the_objective_page_is_kept_for_visitors_and_follows_its_changes(client, login, lively, facilitator,
                                                                         create_comment, create_user,
                                                                         bodies_rendered):
    from consulta.tavoli import operations

    tavolo, objective = lively["tavolo"], lively["objective"]
    url = f"/tavoli/{tavolo.slug}/obiettivi/{objective.id}/"

    def objective_page() -> str:
        response = client.get(url)
        assert response.status_code == 200
        return words(response.get_data(as_text=True))

    objective_page()
    before = objective_page()
    assert len(fragments()) == 1 and "Strumenti di facilitazione" not in before

    create_comment(objective, create_user(email="obiettivo@example.org"), body="Anche nelle frazioni.")
    assert "Anche nelle frazioni." in objective_page()
    operations.update_objective(objective, facilitator, title="Più assistenza domiciliare e di prossimità",
                                body="Testo rivisto.", note="Dopo l'incontro")
    db.session.commit()
    after = objective_page()
    assert "Più assistenza domiciliare e di prossimità" in after and "Testo rivisto." in after

    login(facilitator)
    assert "Strumenti di facilitazione" in objective_page()
