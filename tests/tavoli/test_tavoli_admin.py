"""Admin: plan editions and their tavoli, with every bad input refused in Italian."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from consulta.core.audit import AuditEvent
from consulta.extensions import db
from consulta.plan.models import Plan
from consulta.tavoli.models import Tavolo


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def audit_actions() -> list[str]:
    return list(db.session.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars())


# --- plans ---------------------------------------------------------------------

def test_admin_creates_and_edits_a_plan(client, ambito, admin_user, login):
    login(admin_user)
    assert "Nuovo piano" in client.get("/gestione/piani/").get_data(as_text=True)

    response = client.post("/gestione/piani/nuovo", data={
        "title": "Piano Sociale di Zona 2025–2027", "period_start": "2025", "period_end": "2027",
        "description": "Il piano **triennale** dei servizi sociali.",
    })

    plan = db.session.execute(select(Plan)).scalar_one()
    assert response.status_code == 302 and response.headers["Location"] == f"/gestione/piani/{plan.id}/"
    assert (plan.title, plan.period_start, plan.period_end, plan.status) == (
        "Piano Sociale di Zona 2025–2027", 2025, 2027, "preparing")
    assert "Piano creato" in client.get(response.headers["Location"]).get_data(as_text=True)

    response = client.post(f"/gestione/piani/{plan.id}/modifica", data={
        "title": "Piano Sociale di Zona 2025–2028", "period_start": "2025", "period_end": "2028", "description": "",
    })
    assert response.status_code == 302
    db.session.refresh(plan)
    assert plan.title == "Piano Sociale di Zona 2025–2028" and plan.period_end == 2028 and plan.description is None
    assert audit_actions() == ["plan.create", "plan.update"]

    public = client.get(f"/piano/{plan.id}/").get_data(as_text=True)
    assert "Piano Sociale di Zona 2025–2028" in public and "2025–2028" in public


@pytest.mark.parametrize(("data", "message"), [
    ({"period_start": "2027", "period_end": "2025"}, "L'ultimo anno non può precedere il primo."),
    ({"title": ""}, "Questo campo è obbligatorio."),
    ({"title": "   "}, "Questo campo è obbligatorio."),
    ({"title": "P" * 10_000}, "Al massimo 200 caratteri."),
    ({"period_start": "duemila"}, "Inserisci un numero intero."),
    ({"period_start": "1850"}, "Indica un anno fra 2000 e 2100."),
    ({"period_end": ""}, "Indica l'ultimo anno del periodo."),
    ({"description": "x" * 4001}, "Al massimo 4000 caratteri."),
])
def test_bad_plan_input_is_refused_and_nothing_is_saved(client, ambito, admin_user, login, data, message):
    login(admin_user)
    form = {"title": "Piano 2025–2027", "period_start": "2025", "period_end": "2027", "description": "",
            **data}
    response = client.post("/gestione/piani/nuovo", data=form)
    html = response.get_data(as_text=True).replace("&#39;", "'")
    assert response.status_code == 400
    assert message in html
    assert "Il modulo contiene errori" in html
    # The user's input is kept.
    if data.get("title", "").strip() and len(data["title"]) < 300:
        assert data["title"] in html
    assert count(Plan) == 0 and audit_actions() == []


def test_plan_moves_through_its_statuses_and_adoption_needs_the_deliberation(
        client, ambito, admin_user, create_plan, login):
    plan = create_plan(status="preparing")
    login(admin_user)
    assert client.post(f"/gestione/piani/{plan.id}/stato", data={"target": "consulting"}).status_code == 302

    response = client.post(f"/gestione/piani/{plan.id}/stato", data={"target": "adopted"})
    assert response.status_code == 400
    assert "Indica il riferimento della deliberazione." in response.get_data(as_text=True)
    db.session.refresh(plan)
    assert plan.status == "consulting" and plan.adoption_reference is None

    response = client.post(f"/gestione/piani/{plan.id}/stato", data={
        "target": "adopted", "adoption_reference": "Deliberazione del Coordinamento n. 4",
        "adoption_date": "2025-06-30"})
    assert response.status_code == 302
    db.session.refresh(plan)
    assert (plan.status, plan.adoption_reference, plan.adoption_date) == (
        "adopted", "Deliberazione del Coordinamento n. 4", date(2025, 6, 30))

    # No way back from adoption; unknown targets are a bad request.
    assert client.post(f"/gestione/piani/{plan.id}/stato", data={"target": "preparing"}).status_code == 409
    assert client.post(f"/gestione/piani/{plan.id}/stato", data={"target": "bogus"}).status_code == 400
    assert audit_actions() == ["plan.open_consultation", "plan.adopt"]


# --- tavoli --------------------------------------------------------------------

def tavolo_form(**overrides):
    data = {
        "title": "Anziani e non autosufficienza", "slug": "", "area": "Anziani",
        "description": "Domiciliarità e **sollievo** alle famiglie.", "deadline_date": "2030-01-15",
        "deadline_time": "18:00", "moderation": "pre", "vote_mode": "organisation", "quorum": "5",
    }
    data.update(overrides)
    return data


def test_admin_creates_a_tavolo_with_facilitators_and_a_rome_deadline(
        client, ambito, admin_user, create_plan, create_user, login):
    plan = create_plan()
    chiara = create_user(display_name="Chiara Benedetti", role="facilitator")
    login(admin_user)
    page = client.get(f"/gestione/piani/{plan.id}/tavoli/nuovo").get_data(as_text=True)
    assert "Chiara Benedetti" in page and "Ufficio di Piano" in page

    response = client.post(f"/gestione/piani/{plan.id}/tavoli/nuovo",
                           data=tavolo_form(facilitators=[str(chiara.id), str(admin_user.id)]))

    assert response.status_code == 302
    assert response.headers["Location"] == "/tavoli/anziani-e-non-autosufficienza/"
    tavolo = db.session.execute(select(Tavolo)).scalar_one()
    assert tavolo.phase == "draft" and tavolo.moderation == "pre" and tavolo.vote_mode == "organisation"
    assert tavolo.quorum == 5
    assert "<strong>sollievo</strong>" in tavolo.description_html
    # 18:00 in Rome in January (CET, UTC+1) is 17:00 UTC.
    assert tavolo.proposal_deadline == datetime(2030, 1, 15, 17, 0, tzinfo=UTC)
    assert {f.id for f in tavolo.facilitators} == {chiara.id, admin_user.id}
    assert audit_actions() == ["tavolo.create"]
    html = client.get("/tavoli/anziani-e-non-autosufficienza/").get_data(as_text=True)
    assert "15 gennaio 2030 alle 18:00" in html


def test_summer_deadline_uses_summer_time_and_empty_time_means_end_of_day(
        client, ambito, admin_user, create_plan, login):
    plan = create_plan()
    login(admin_user)
    client.post(f"/gestione/piani/{plan.id}/tavoli/nuovo",
                data=tavolo_form(title="Estate", deadline_date="15/07/2030", deadline_time=""))
    tavolo = db.session.execute(select(Tavolo)).scalar_one()
    assert tavolo.proposal_deadline == datetime(2030, 7, 15, 21, 59, tzinfo=UTC)


def test_slugs_are_generated_unique_from_the_title(client, ambito, admin_user, create_plan, login):
    plan = create_plan()
    login(admin_user)
    for _ in range(3):
        assert client.post(f"/gestione/piani/{plan.id}/tavoli/nuovo",
                           data=tavolo_form(title="Povertà e inclusione")).status_code == 302
    slugs = sorted(db.session.execute(select(Tavolo.slug)).scalars())
    assert slugs == ["poverta-e-inclusione", "poverta-e-inclusione-2", "poverta-e-inclusione-3"]


def test_admin_edits_a_tavolo(client, ambito, admin_user, create_tavolo, create_user, login):
    old_facilitator = create_user(role="facilitator", display_name="Vecchio")
    new_facilitator = create_user(role="facilitator", display_name="Nuova")
    tavolo = create_tavolo(slug="anziani", title="Anziani", facilitators=[old_facilitator])
    login(admin_user)
    page = client.get("/gestione/tavoli/anziani/modifica").get_data(as_text=True)
    assert 'value="Anziani"' in page and f'value="{old_facilitator.id}"\n                 checked' in page

    response = client.post("/gestione/tavoli/anziani/modifica", data=tavolo_form(
        title="Anziani e domiciliarità", slug="anziani", facilitators=[str(new_facilitator.id)], quorum="",
        deadline_date="", deadline_time=""))

    assert response.status_code == 302
    db.session.refresh(tavolo)
    assert tavolo.title == "Anziani e domiciliarità" and tavolo.slug == "anziani"
    assert [f.id for f in tavolo.facilitators] == [new_facilitator.id]
    assert tavolo.quorum is None and tavolo.proposal_deadline is None
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "tavolo.update")).scalar_one()
    assert event.changes["facilitators"] == [[old_facilitator.id], [new_facilitator.id]]
    assert event.tavolo_id == tavolo.id


@pytest.mark.parametrize(("overrides", "message"), [
    ({"title": ""}, "Questo campo è obbligatorio."),
    ({"title": "T" * 10_000}, "Al massimo 200 caratteri."),
    ({"area": ""}, "Questo campo è obbligatorio."),
    ({"slug": "esistente"}, "Questo indirizzo è già usato da un altro tavolo"),
    ({"slug": "Con Spazi!"}, "Usa solo lettere minuscole senza accenti, cifre e trattini"),
    ({"deadline_date": "31/02/2030"}, "Data non valida: usa il formato gg/mm/aaaa."),
    ({"deadline_date": "domani"}, "Data non valida: usa il formato gg/mm/aaaa."),
    ({"deadline_time": "25:99"}, "Ora non valida: usa il formato hh:mm"),
    ({"deadline_date": "", "deadline_time": "12:00"}, "Indica anche il giorno del termine."),
    ({"quorum": "0"}, "Il quorum deve essere un numero intero positivo."),
    ({"quorum": "-3"}, "Il quorum deve essere un numero intero positivo."),
    ({"quorum": "tre"}, "Inserisci un numero intero."),
    ({"facilitators": ["999999"]}, "Una delle persone scelte non esiste o non può facilitare un tavolo."),
    ({"facilitators": ["abc"]}, "Valore non valido."),
    ({"moderation": "sometimes"}, "Scegli una delle opzioni proposte."),
    ({"vote_mode": ""}, "Scegli una delle opzioni proposte."),
    ({"description": "d" * 20_001}, "Al massimo 20000 caratteri."),
])
def test_bad_tavolo_input_is_refused_and_nothing_is_saved(
        client, ambito, admin_user, create_plan, create_tavolo, login, overrides, message):
    plan = create_plan()
    create_tavolo(plan=plan, slug="esistente")
    login(admin_user)

    response = client.post(f"/gestione/piani/{plan.id}/tavoli/nuovo", data=tavolo_form(**overrides))

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html.replace("&#39;", "'")
    assert "Il modulo contiene errori" in html or "già usato" in html
    assert count(Tavolo) == 1 and audit_actions() == []


def test_participant_cannot_be_chosen_as_facilitator(client, ambito, admin_user, create_plan, dummy_user, login):
    plan = create_plan()
    login(admin_user)
    response = client.post(f"/gestione/piani/{plan.id}/tavoli/nuovo",
                           data=tavolo_form(facilitators=[str(dummy_user.id)]))
    assert response.status_code == 400
    assert count(Tavolo) == 0


def test_edit_to_a_slug_in_use_is_refused(client, ambito, admin_user, create_tavolo, login):
    create_tavolo(slug="uno")
    tavolo = create_tavolo(slug="due", title="Due")
    login(admin_user)
    response = client.post("/gestione/tavoli/due/modifica", data=tavolo_form(title="Due", slug="uno"))
    assert response.status_code == 400
    assert "Questo indirizzo è già usato da un altro tavolo" in response.get_data(as_text=True)
    db.session.refresh(tavolo)
    assert tavolo.slug == "due"


def test_no_new_tavoli_in_an_adopted_plan(client, ambito, admin_user, create_plan, login):
    plan = create_plan(status="adopted", adoption_reference="Delibera n. 1", adoption_date=date(2025, 1, 1))
    login(admin_user)
    assert client.get(f"/gestione/piani/{plan.id}/tavoli/nuovo").status_code == 409
    assert client.post(f"/gestione/piani/{plan.id}/tavoli/nuovo", data=tavolo_form()).status_code == 409
    assert count(Tavolo) == 0


def test_post_without_csrf_is_refused(client, ambito, admin_user, create_plan, login):
    plan = create_plan()
    login(admin_user)
    response = client.post(f"/gestione/piani/{plan.id}/tavoli/nuovo", data=tavolo_form(), csrf=False)
    assert response.status_code == 400
    assert count(Tavolo) == 0


# --- who may use the admin pages --------------------------------------------------

ADMIN_ROUTES = [
    ("GET", "/gestione/piani/"),
    ("GET", "/gestione/piani/nuovo"),
    ("POST", "/gestione/piani/nuovo"),
    ("GET", "/gestione/piani/{plan}/"),
    ("GET", "/gestione/piani/{plan}/modifica"),
    ("POST", "/gestione/piani/{plan}/modifica"),
    ("POST", "/gestione/piani/{plan}/stato"),
    ("GET", "/gestione/piani/{plan}/tavoli/nuovo"),
    ("POST", "/gestione/piani/{plan}/tavoli/nuovo"),
    ("GET", "/gestione/tavoli/{slug}/modifica"),
    ("POST", "/gestione/tavoli/{slug}/modifica"),
]


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
@pytest.mark.parametrize(("role", "expected"), [
    ("anonymous", "login"),
    ("participant", 403),
    ("facilitator", 403),
    ("admin", "allowed"),
])
def test_admin_routes_by_role(client, ambito, create_plan, create_tavolo, create_user, login,
                              method, path, role, expected):
    plan = create_plan()
    facilitator = create_user(role="facilitator")
    tavolo = create_tavolo(plan=plan, slug="t", facilitators=[facilitator])
    if role != "anonymous":
        login({"participant": create_user(), "facilitator": facilitator,
               "admin": create_user(role="admin")}[role])
    url = path.format(plan=plan.id, slug=tavolo.slug)

    # Empty POSTs: an admin gets a form error (400), everyone else never reaches the form.
    response = client.get(url) if method == "GET" else client.post(url, data={})

    if expected == "login":
        assert response.status_code == 302 and "/accedi" in response.headers["Location"]
    elif expected == "allowed":
        assert response.status_code in (200, 400)
    else:
        assert response.status_code == expected
    assert audit_actions() == []
