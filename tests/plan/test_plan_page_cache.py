"""The public plan page keeps its body, rendered once per content (consulta/plan/page_cache.py): each
change of what the body shows is on the page at the next request, whatever changed it; every viewer
still gets their own controls and tavoli; a kept page is the page rendered afresh."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from jinja2 import meta

from consulta.core.fragments import FragmentCache, cached, fragments
from consulta.extensions import db
from consulta.plan.queries import content_stamp
from tests.plan.helpers import section, text

ACTION = {"title": "Centro diurno per l'Alzheimer", "description": "Un centro **nuovo**.",
          "beneficiaries": "Anziani e famiglie", "responsible_body": "Comune di Narni", "start_date": "",
          "end_date": "", "scope": "all"}


@pytest.fixture
def action(stage, admin_user, build_action):
    return build_action(stage["area"], admin_user, title="Centro diurno Alzheimer",
                        decisions=[stage["decisions"]["Centro diurno a Narni"]])


def page(client, plan) -> str:
    return text(client.get(f"/piano/{plan.id}/"))


def kept(client, plan) -> str:
    """The page once its body is kept: the first request renders it, the second reads it."""
    page(client, plan)
    bodies = len(fragments("plan"))
    html = page(client, plan)
    assert len(fragments("plan")) == bodies > 0
    return html


def body(html: str) -> str:
    """The part every viewer shares: from the table of contents to the documents."""
    return html.split('<nav class="plan-toc', 1)[1].split('id="plan-tavoli-title"', 1)[0]


def card(html: str, action) -> str:
    return html.split(f'id="azione-{action.id}"', 1)[1].split("</article>", 1)[0]


def origin(html: str, action) -> str:
    return html.split(f'id="azione-{action.id}-origine"', 1)[1].split("</article>", 1)[0]


def words(html: str) -> str:
    """What a reader reads: no tags, one space between words."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# --------------------------------------------------------------------------- the record's changes

def test_an_edited_action_shows_at_once(client, login, plan, action, facilitator):
    before = kept(client, plan)
    assert "Centro diurno Alzheimer" in before and "Anziani e famiglie" not in before
    login(facilitator)
    response = client.post(f"/facilitazione/piano/{plan.id}/azioni/{action.id}/modifica", data=ACTION)
    assert response.status_code == 302
    client.logout()

    after = card(page(client, plan), action)
    assert "Centro diurno per l'Alzheimer" in after and "Anziani e famiglie" in after
    assert "Centro diurno Alzheimer<" not in after


def test_a_new_budget_line_shows_at_once_in_the_action_and_the_totals(client, login, plan, action, facilitator):
    before = kept(client, plan)
    assert "Totale: 1.000,00 €" in words(section(before, "risorse"))
    login(facilitator)
    response = client.post(f"/facilitazione/piano/{plan.id}/azioni/{action.id}/risorse/nuova",
                           data={"amount": "2.500,50", "funding_source": "fna", "year": "2026"})
    assert response.status_code == 302
    client.logout()

    after = page(client, plan)
    assert "2.500,50 €" in card(after, action)
    assert "Totale: 3.500,50 €" in words(section(after, "risorse"))


def test_a_decision_taken_in_shows_at_once_with_its_provenance(client, login, plan, stage, action, facilitator):
    before = kept(client, plan)
    assert "Trasporto sociale serale" not in origin(before, action)
    assert "1 decisione approvata dai tavoli è in attesa di essere recepita nel piano." in before
    login(facilitator)
    response = client.post(f"/facilitazione/piano/{plan.id}/azioni/{action.id}/collega",
                           data={"decisions": [stage["decisions"]["Trasporto sociale serale"].id]})
    assert response.status_code == 302
    client.logout()

    after = page(client, plan)
    assert "«Trasporto sociale serale»" in origin(after, action)
    assert "in attesa di essere recepit" not in after


def test_adoption_and_monitoring_show_at_once(client, login, plan, stage, action, admin_user, facilitator):
    from consulta.plan import record_operations as ops

    ops.attach_inputs(action, admin_user, [stage["decisions"]["Trasporto sociale serale"]])
    db.session.commit()
    before = kept(client, plan)  # nothing left to take in: only the plan's status changes below
    assert "in attesa di essere recepit" not in before
    assert "Programmata" not in before and 'id="monitoraggio"' not in before
    login(admin_user)
    adopted = client.post(f"/facilitazione/piano/{plan.id}/adozione", data={
        "adoption_reference": "Deliberazione n. 4", "adoption_date": "2025-06-30"})
    assert adopted.status_code == 302
    client.logout()

    after = page(client, plan)
    assert "Adottato con Deliberazione n. 4 del 30 giugno 2025." in after
    assert "Programmata" in card(after, action)
    assert 'id="monitoraggio"' in after

    from consulta.plan.operations import change_plan_status

    change_plan_status(plan, "monitoring", admin_user)
    db.session.commit()
    kept(client, plan)
    login(facilitator)
    assert client.post(f"/facilitazione/piano/{plan.id}/azioni/{action.id}/stato",
                       data={"status": "in_progress"}).status_code == 302
    client.logout()
    monitored = page(client, plan)
    assert "In corso" in card(monitored, action) and "Programmata" not in card(monitored, action)


def test_decisions_approved_meanwhile_are_counted_at_once(client, plan, table, stage, action, facilitator,
                                                         create_proposal, approve_decisions):
    assert "1 decisione approvata dai tavoli è in attesa" in kept(client, plan)
    proposal = create_proposal(table, stage["citizen"], title="Sportello per i caregiver")
    approve_decisions(table, [(proposal, "approved")], by=facilitator)
    assert "2 decisioni approvate dai tavoli sono in attesa" in page(client, plan)


def test_each_language_has_its_own_body(client, plan, action):
    italian = kept(client, plan)
    assert "Risorse del piano" in italian and "Tutti i comuni dell'Ambito" in italian
    client.get("/lingua/en")
    english = page(client, plan)
    assert "Plan resources" in english and "All municipalities of the Social District" in english
    assert "Risorse del piano" not in english
    client.get("/lingua/it")
    assert page(client, plan) == italian
    assert len(fragments("plan")) == 2


# --------------------------------------------------------------------------- other domains' changes

def test_a_vote_on_a_proposal_behind_an_action_shows_at_once(client, plan, stage, action, create_user, create_vote):
    before = kept(client, plan)
    assert "2 favorevoli · 0 contrari · 0 astenuti" in origin(before, action)
    create_vote(stage["centro"], create_user(), "against")
    assert "2 favorevoli · 1 contrario · 0 astenuti" in origin(page(client, plan), action)


def test_a_renamed_tavolo_organisation_or_comune_shows_at_once(client, login, plan, table, stage, action, admin_user,
                                                               create_comune):
    kept(client, plan)
    login(admin_user)
    response = client.post(f"/gestione/tavoli/{table.slug}/modifica", data={
        "title": "Anziani e domiciliarità", "slug": table.slug, "area": table.area, "description": "",
        "deadline_date": "", "deadline_time": "", "moderation": table.moderation, "vote_mode": table.vote_mode,
        "quorum": "", "facilitators": [str(f.id) for f in table.facilitators]})
    assert response.status_code == 302
    client.logout()
    areas = page(client, plan).split('class="plan-area', 1)[1]
    assert "Dai tavoli: Anziani e domiciliarità" in words(areas)

    stage["auser"].name = "Auser Narni APS"  # however it is renamed: the page reads the name it prints
    db.session.commit()
    assert "Auser Narni APS" in origin(page(client, plan), action)

    create_comune("Calvi dell'Umbria")
    assert "Calvi dell'Umbria" in section(page(client, plan), "comuni")


# --------------------------------------------------------------------------- viewers

def test_each_viewer_gets_their_own_controls_and_tavoli_around_the_same_body(
        client, login, plan, table, action, admin_user, facilitator, create_tavolo):
    create_tavolo(plan=plan, slug="bozza", title="Tavolo in bozza", phase="draft", facilitators=[facilitator])
    anonymous = kept(client, plan)
    login(facilitator)
    facilitating = page(client, plan)
    client.logout()
    login(admin_user)
    administering = page(client, plan)
    client.logout()

    assert "Redazione del piano" not in anonymous and "Gestisci il piano" not in anonymous
    assert "Redazione del piano" in facilitating and "Gestisci il piano" not in facilitating
    assert "Redazione del piano" in administering and "Gestisci il piano" in administering
    assert "Tavolo in bozza" not in anonymous and "Tavolo in bozza" in facilitating
    assert "Esci" in facilitating and "Esci" not in anonymous  # the signed-in header
    assert body(anonymous) == body(facilitating) == body(administering)
    assert len(fragments("plan")) == 1


# --------------------------------------------------------------------------- kept equals fresh

# What the templates of the body may read: the plan, its record, the pending decisions, the comuni (the
# values page_cache.plan_body passes and its key covers) and the templates' own loop and block variables.
# A template that reads anything else (current_user, request, a new value) must first be given it by
# plan_body, and its key must cover it.
BODY_TEMPLATES = ("plan/_body.html", "plan/_record.html", "plan/_action.html", "plan/_budget.html",
                  "plan/_macros.html")
BODY_READS = {"plan", "record", "pending", "comuni", "status_counts", "hide_empty", "action", "objective", "proposal",
              "public_tavoli", "budget_heading", "budget_note", "budget_prefix"}


def test_the_body_reads_nothing_of_the_viewer(app):
    env = app.jinja_env
    read = set().union(*(meta.find_undeclared_variables(env.parse(env.loader.get_source(env, name)[0]))
                         for name in BODY_TEMPLATES))
    assert read <= BODY_READS, read - BODY_READS


def test_a_kept_page_is_the_page_rendered_afresh(client, plan, action, make_app):
    url = f"/piano/{plan.id}/"
    fresh = client.get(url).data
    assert client.get(url).data == fresh
    other = make_app().test_client()  # another worker, with nothing kept
    assert other.get(url).data == fresh


def test_a_kept_page_reads_none_of_the_record(client, plan, action, count_queries):
    url = f"/piano/{plan.id}/"  # counted below: the page's statements, not the test's own
    client.get(url)
    with count_queries() as counter:
        client.get(url)
    statements = [s.lower() for s in counter.statements]
    record = ("from plan_action", "from plan_objective", "from plan_budget_line", "from plan_indicator",
              "from plan_progress_update")
    assert not any(table in s for s in statements for table in record), statements
    # The plan, its tavoli, the decisions still to take in, the stamp, the Ambito, the open aggiornamento.
    assert len(statements) == 6, "\n".join(s[:150] for s in statements)


def test_a_body_rendered_while_the_plan_changed_is_not_kept(app, plan, action, admin_user):
    """A change committed during the rendering might be half in the HTML: it is served once, not kept."""
    from consulta.plan import record_operations as ops

    def render() -> str:
        ops.add_budget_line(action, admin_user, amount=Decimal(1), funding_source="fnps", year=2025)
        db.session.commit()
        return "<p>corpo</p>"

    assert cached(lambda: content_stamp(plan.id), render, kind="plan") == "<p>corpo</p>"
    assert len(fragments("plan")) == 0
    assert cached(lambda: content_stamp(plan.id), lambda: "<p>dopo</p>", kind="plan") == "<p>dopo</p>"
    assert cached(lambda: content_stamp(plan.id), lambda: "<p>mai</p>", kind="plan") == "<p>dopo</p>"


def test_the_cache_keeps_the_most_recently_used_bodies():
    cache = FragmentCache(size=2)
    cache.put("a", "A")
    cache.put("b", "B")
    assert cache.get("a") == "A"
    cache.put("c", "C")
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == ("A", None, "C")
    assert len(cache) == 2


def test_plans_have_their_own_bodies(client, plan, action, create_plan):
    other = create_plan(title="Piano Sociale di Zona 2028–2030", period_start=2028, period_end=2030)
    assert "Centro diurno Alzheimer" in kept(client, plan)
    assert "Centro diurno Alzheimer" not in page(client, other)
    assert len(fragments("plan")) == 2
