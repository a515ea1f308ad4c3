"""A real Ambito set up without code: `flask ambito init` and the admin page, from the ISTAT list (issue 12)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from consulta.ambito.models import Ambito, Comune
from consulta.core.audit import AuditEvent
from consulta.extensions import db
from consulta.plan.models import Plan
from consulta.tavoli.models import Tavolo

POGGIARDO = ["Andrano", "Botrugno", "Castro", "Diso", "Giuggianello", "Minervino di Lecce", "Nociglia", "Ortelle",
             "Poggiardo", "Sanarica", "San Cassiano", "Santa Cesarea Terme", "Spongano", "Surano",
             "Uggiano la Chiesa"]
INIT = ["ambito", "init", "--nome", "Ambito Territoriale Sociale di Poggiardo", "--numero", "44",
        "--regione", "Puglia", "--comuni", ", ".join(POGGIARDO), "--capofila", "Poggiardo",
        "--piano", "Piano sociale di zona 2025–2027", "--dal", "2025", "--al", "2027"]


def comuni() -> dict[str, str]:
    return {c.name: c.istat_code for c in db.session.execute(select(Comune)).scalars()}


def test_poggiardo_from_an_empty_database_to_its_first_open_tavolo(runner, client, admin_user, login):
    result = runner.invoke(args=INIT)

    assert result.exit_code == 0, result.output
    assert "Ambito Territoriale Sociale di Poggiardo: 15 comuni, capofila Poggiardo." in result.output
    ambito = Ambito.current()
    assert (ambito.name, ambito.number, ambito.region, ambito.lead_comune.name) == (
        "Ambito Territoriale Sociale di Poggiardo", "44", "Puglia", "Poggiardo")
    found = comuni()
    assert sorted(found) == sorted(POGGIARDO)
    # Castro is also a comune near Bergamo: the region chose the one in the province of Lecce.
    assert (found["Castro"], found["Poggiardo"], found["Minervino di Lecce"]) == ("075096", "075061", "075047")
    plan = Plan.current()
    assert (plan.title, plan.period_start, plan.period_end) == ("Piano sociale di zona 2025–2027", 2025, 2027)

    home = client.get("/").get_data(as_text=True)
    assert "Ambito Territoriale Sociale di Poggiardo" in home and "Santa Cesarea Terme" in home

    # The Ufficio di Piano opens the first tavolo, through the pages that already exist.
    login(admin_user)
    response = client.post(f"/gestione/piani/{plan.id}/tavoli/nuovo", data={
        "title": "Anziani", "slug": "", "area": "Anziani", "description": "Domiciliarità.",
        "deadline_date": "2030-01-15", "deadline_time": "18:00", "moderation": "post", "vote_mode": "person",
        "quorum": "", "facilitators": [str(admin_user.id)]})
    assert response.status_code == 302, response.get_data(as_text=True)
    tavolo = db.session.execute(select(Tavolo)).scalar_one()
    assert client.post(f"/facilitazione/tavoli/{tavolo.slug}/fase", data={"target": "open"}).status_code == 302
    db.session.refresh(tavolo)
    assert tavolo.phase == "open"
    assert "Anziani" in client.get("/").get_data(as_text=True)


def test_running_init_again_changes_only_what_differs(runner):
    assert runner.invoke(args=INIT).exit_code == 0
    again = runner.invoke(args=INIT)
    assert again.exit_code == 0 and "Nessuna modifica." in again.output
    assert len(comuni()) == 15 and db.session.execute(select(Plan)).scalars().all().__len__() == 1
    assert [e.action for e in db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars()] == ["ambito.create", "plan.create"]


def test_init_asks_for_what_the_options_do_not_say(runner):
    answers = "\n".join(["Ambito di Poggiardo", "44", "Puglia", ", ".join(POGGIARDO), "Poggiardo",
                         "2026", "2028", ""]) + "\n"
    result = runner.invoke(args=["ambito", "init"], input=answers)
    assert result.exit_code == 0, result.output
    assert Ambito.current().name == "Ambito di Poggiardo"
    assert Plan.current().title == "Piano Sociale di Zona 2026–2028"


@pytest.mark.parametrize(("change", "message"), [
    ({"--comuni": "Poggiardo, Atlantide"}, "«Atlantide»: nessun comune con questo nome in Puglia nell'elenco ISTAT."),
    ({"--regione": "Lombardia", "--comuni": "Castro, Poggiardo"}, "«Poggiardo»: nessun comune con questo nome in "
                                                                 "Lombardia"),
    ({"--capofila": "Narni"}, "Il comune capofila deve essere uno dei comuni dell'Ambito."),
    ({"--regione": "Atlantide"}, "Scegli la regione dall'elenco."),
    ({"--comuni": "999999, Poggiardo"}, "Nessun comune ha il codice ISTAT 999999."),
    ({"--nome": "   "}, "Indica il nome dell'Ambito."),
    ({"--dal": "2027", "--al": "2025"}, "Gli anni del piano non sono validi"),
])
def test_init_refuses_what_it_cannot_apply_and_saves_nothing(runner, change, message):
    args = list(INIT)
    for option, value in change.items():
        args[args.index(option) + 1] = value
    result = runner.invoke(args=args)
    assert result.exit_code == 1 and message in result.output
    assert Ambito.current() is None and comuni() == {} and Plan.current() is None


def test_a_name_shared_by_two_comuni_asks_for_the_province():
    from consulta.ambito.istat import registry

    found, problems = registry().resolve(["Castro", "Castro (BG)", "016065", "castro (le)"])
    assert [c.label for c in found] == ["Castro (BG)", "Castro (LE)"]
    assert problems == ["«Castro» è il nome di più comuni (Castro (BG), Castro (LE)): aggiungi la sigla della "
                        "provincia, per esempio «Castro (BG)», o scrivi il codice ISTAT."]


# --- the admin page -----------------------------------------------------------------------------

def setup_form(**overrides):
    data = {"name": "Ambito Territoriale Sociale di Poggiardo", "number": "44", "region": "Puglia",
            "comuni": "\n".join(POGGIARDO), "lead": "Poggiardo"}
    data.update(overrides)
    return data


def test_the_admin_sets_up_and_then_changes_the_ambito_on_its_page(client, admin_user, login):
    login(admin_user)
    page = client.get("/gestione/ambito").get_data(as_text=True)
    assert "Consulta non è ancora configurata" in page and "Nessun piano ancora." in page

    response = client.post("/gestione/ambito", data=setup_form())
    assert response.status_code == 302 and response.headers["Location"] == "/gestione/ambito"
    page = client.get("/gestione/ambito").get_data(as_text=True)
    assert "Ambito salvato: 15 comuni." in page and "ISTAT 075061" in page and "15 comuni registrati" in page

    # Two comuni leave, one joins (by ISTAT code), the capofila changes.
    changed = [c for c in POGGIARDO if c not in ("Surano", "Spongano")] + ["075088"]
    response = client.post("/gestione/ambito", data=setup_form(comuni="\n".join(changed), lead="Diso"))
    assert response.status_code == 302
    assert "Tricase" in comuni() and "Surano" not in comuni() and len(comuni()) == 14
    assert Ambito.current().lead_comune.name == "Diso"
    update = db.session.execute(select(AuditEvent).where(AuditEvent.action == "ambito.update")).scalar_one()
    assert update.actor_id == admin_user.id and update.changes["lead_comune"] == ["Poggiardo", "Diso"]


@pytest.mark.parametrize(("overrides", "message"), [
    ({"comuni": "Poggiardo\nAtlantide"}, "«Atlantide»: nessun comune con questo nome in Puglia"),
    ({"lead": "Lecce"}, "Il comune capofila deve essere uno dei comuni dell'Ambito."),
    ({"region": ""}, "Scegli la regione dall'elenco."),
    ({"name": ""}, "Indica il nome dell'Ambito."),
    ({"comuni": ""}, "Indica almeno un comune dell'Ambito."),
    ({"number": "1" * 21}, "Il numero può avere al massimo 20 caratteri."),
])
def test_bad_input_on_the_page_is_explained_and_kept(client, admin_user, login, overrides, message):
    login(admin_user)
    response = client.post("/gestione/ambito", data=setup_form(**overrides))
    html = response.get_data(as_text=True).replace("&#39;", "'")
    assert response.status_code == 400 and message in html
    assert "Uggiano la Chiesa" in html or overrides.get("comuni") is not None  # what was typed stays in the form
    assert Ambito.current() is None and comuni() == {}


def test_a_comune_where_people_live_cannot_be_removed(client, admin_user, create_user, login):
    login(admin_user)
    client.post("/gestione/ambito", data=setup_form())
    resident = create_user(email="surano@example.org")
    resident.comune_id = db.session.execute(select(Comune.id).where(Comune.name == "Surano")).scalar_one()
    db.session.commit()

    response = client.post("/gestione/ambito", data=setup_form(comuni="\n".join(c for c in POGGIARDO if c != "Surano")))
    assert response.status_code == 400
    assert "Non si possono togliere Surano" in response.get_data(as_text=True)
    assert "Surano" in comuni() and len(comuni()) == 15


@pytest.mark.parametrize(("who", "expected"), [("anonymous", 302), ("participant", 403), ("facilitator", 403)])
def test_only_the_ufficio_di_piano_sets_up_the_ambito(client, create_user, login, who, expected):
    if who != "anonymous":
        login(create_user(email=f"{who}@example.org", role=who))
    for response in (client.get("/gestione/ambito"), client.post("/gestione/ambito", data=setup_form())):
        assert response.status_code == expected
    assert Ambito.current() is None
