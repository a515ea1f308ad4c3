"""Editing the plan record: areas, objectives, actions, indicators and budget lines; every
change is a PlanRevision; bad input is refused with an Italian message and changes nothing."""

from __future__ import annotations

import html as htmllib
from decimal import Decimal

import pytest
from sqlalchemy import select

from consulta.extensions import db
from consulta.plan.record import (
    BudgetLine,
    Indicator,
    PlanAction,
    PlanArea,
    PlanObjective,
    PlanRevision,
)
from tests.plan.helpers import count, text


def revisions(**where) -> list[PlanRevision]:
    stmt = select(PlanRevision).order_by(PlanRevision.id)
    for key, value in where.items():
        stmt = stmt.where(getattr(PlanRevision, key) == value)
    return list(db.session.execute(stmt).scalars())


ACTION = {"title": "Centro diurno Alzheimer", "description": "Un centro **nuovo**.", "beneficiaries": "Anziani",
          "responsible_body": "Comune di Narni", "start_date": "2025-03-01", "end_date": "2026-12-31", "scope": "all"}


@pytest.fixture
def objective(plan, table, admin_user, create_area):
    from consulta.plan import record_operations as ops

    area = create_area(plan, admin_user, tavoli=[table])
    item = ops.create_objective(area, admin_user, title="Domiciliarità", description="")
    db.session.commit()
    return item


# --------------------------------------------------------------------------- areas

def test_admin_creates_an_area_linked_to_tavoli(client, login, plan, table, other_table, admin_user):
    login(admin_user)
    response = client.post(f"/facilitazione/piano/{plan.id}/aree/nuova", data={
        "title": "Povertà e inclusione", "description": "Contrasto alla povertà.", "tavoli": [other_table.id]})
    assert response.status_code == 302
    area = db.session.execute(select(PlanArea)).scalar_one()
    assert [t.id for t in area.tavoli] == [other_table.id]
    fields = {r.field: r.new_value for r in revisions(item_type="area")}
    assert fields == {"title": "Povertà e inclusione", "description": "Contrasto alla povertà.",
                      "tavoli": "Povertà e inclusione"}


def test_area_refuses_tavoli_of_another_plan(client, login, plan, admin_user, create_plan, create_tavolo):
    foreign = create_tavolo(plan=create_plan(title="Altro", period_start=2028, period_end=2030), slug="estraneo")
    login(admin_user)
    response = client.post(f"/facilitazione/piano/{plan.id}/aree/nuova", data={"title": "X", "tavoli": [foreign.id]})
    assert response.status_code == 400
    assert "Si possono collegare solo tavoli di questo piano." in text(response)
    assert count(PlanArea) == 0


def test_facilitators_do_not_create_or_rename_areas(client, login, plan, table, facilitator, objective):
    login(facilitator)
    assert client.get(f"/facilitazione/piano/{plan.id}/aree/nuova").status_code == 403
    assert client.post(f"/facilitazione/piano/{plan.id}/aree/{objective.area_id}/modifica",
                       data={"title": "Mio"}).status_code == 403


def test_area_with_objectives_is_not_deleted(client, login, plan, admin_user, objective):
    login(admin_user)
    response = client.post(f"/facilitazione/piano/{plan.id}/aree/{objective.area_id}/elimina")
    assert response.status_code == 409
    assert "L'area contiene obiettivi" in text(response)
    assert count(PlanArea) == 1


# --------------------------------------------------------------------------- objectives and actions

def test_facilitator_edits_an_objective_and_the_revision_says_old_and_new(client, login, plan, facilitator,
                                                                         objective):
    login(facilitator)
    response = client.post(f"/facilitazione/piano/{plan.id}/obiettivi/{objective.id}/modifica",
                           data={"title": "Domiciliarità e sollievo", "description": ""})
    assert response.status_code == 302
    change = revisions(item_type="objective", operation="update")[0]
    assert (change.field, change.old_value, change.new_value) == ("title", "Domiciliarità", "Domiciliarità e sollievo")
    assert change.actor_name == "Fabio Facilitatore" and change.kind == "drafting"
    log = text(client.get(f"/piano/{plan.id}/modifiche/obiettivo/{objective.id}"))
    assert "Domiciliarità e sollievo" in log and "Redazione" in log and "Fabio Facilitatore" in log


def test_facilitator_creates_an_action_with_dates_and_some_comuni(client, login, plan, facilitator, objective,
                                                                  ambito):
    from consulta.ambito.models import Comune

    amelia = db.session.execute(select(Comune).where(Comune.name == "Amelia")).scalar_one()
    login(facilitator)
    response = client.post(f"/facilitazione/piano/{plan.id}/obiettivi/{objective.id}/azioni/nuova",
                           data={**ACTION, "scope": "some", "comuni": [amelia.id]})
    assert response.status_code == 302
    action = db.session.execute(select(PlanAction)).scalar_one()
    assert not action.all_comuni and [c.name for c in action.comuni] == ["Amelia"]
    assert str(action.start_date) == "2025-03-01" and str(action.end_date) == "2026-12-31"
    page = text(client.get(response.headers["Location"]))
    assert "Azione «Centro diurno Alzheimer» creata." in page and "Amelia" in page


@pytest.mark.parametrize("change, message", [
    ({"end_date": "2025-01-01"}, "La data di fine non può precedere la data di inizio."),
    ({"start_date": "31/02/2025"}, "Data non valida: usa il formato gg/mm/aaaa."),
    ({"scope": "some", "comuni": ["999999"]}, "Si possono indicare solo comuni dell'Ambito."),
    ({"scope": "some"}, "Scegli almeno un comune, oppure «Tutti i comuni dell'Ambito»."),
    ({"scope": "some", "comuni": ["x"]}, "Valore non valido."),
    ({"title": ""}, "Questo campo è obbligatorio."),
    ({"title": "x" * 301}, "Al massimo 300 caratteri."),
    ({"beneficiaries": "x" * 1001}, "Al massimo 1000 caratteri."),
    ({"responsible_body": "x" * 201}, "Al massimo 200 caratteri."),
])
def test_bad_action_input_is_refused_and_kept(client, login, plan, facilitator, objective, ambito, change, message):
    login(facilitator)
    data = {**ACTION, **change}
    response = client.post(f"/facilitazione/piano/{plan.id}/obiettivi/{objective.id}/azioni/nuova", data=data)
    assert response.status_code == 400
    page = text(response)
    assert message in page
    kept = 'value="Comune di Narni"' if "title" in change else 'value="Centro diurno Alzheimer"'
    assert kept in page  # the user's input is kept
    assert count(PlanAction) == 0


def test_comuni_outside_the_ambito_are_refused_by_the_operation_too(app, objective, admin_user):
    from consulta.ambito.models import Comune
    from consulta.core.states import TransitionError
    from consulta.plan import record_operations as ops

    ghost = Comune(id=424242, name="Fantasma", slug="fantasma")  # not stored: not one of the Ambito's comuni
    with pytest.raises(TransitionError, match="solo comuni dell'Ambito"):
        ops.create_action(objective, admin_user, ops.ActionFields(
            title="X", description="", beneficiaries="", responsible_body="", start_date=None, end_date=None,
            all_comuni=False, comuni=[ghost]))
    db.session.rollback()
    assert count(PlanAction) == 0


def test_end_before_start_is_refused_by_the_database_too(app, objective):
    from datetime import date

    from sqlalchemy.exc import IntegrityError

    db.session.add(PlanAction(plan_id=objective.plan_id, objective_id=objective.id, title="Rovescia",
                              start_date=date(2025, 6, 1), end_date=date(2025, 1, 1)))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


# --------------------------------------------------------------------------- budget lines

@pytest.fixture
def action(objective, admin_user):
    from consulta.plan import record_operations as ops

    item = ops.create_action(objective, admin_user, ops.ActionFields(
        title="Centro diurno", description="", beneficiaries="", responsible_body="", start_date=None, end_date=None,
        all_comuni=True, comuni=[]))
    db.session.commit()
    return item


@pytest.mark.parametrize("typed, stored", [
    ("12.500,50", Decimal("12500.50")),
    ("12500.5", Decimal("12500.50")),
    ("1.234.567", Decimal("1234567.00")),
    ("€ 3 000,00", Decimal("3000.00")),
    ("0,01", Decimal("0.01")),
])
def test_amounts_typed_the_italian_way_are_stored_exactly(client, login, plan, facilitator, action, typed, stored):
    login(facilitator)
    response = client.post(f"/facilitazione/piano/{plan.id}/azioni/{action.id}/risorse/nuova",
                           data={"amount": typed, "funding_source": "fna", "year": "2026"})
    assert response.status_code == 302
    line = db.session.execute(select(BudgetLine)).scalar_one()
    assert line.amount == stored and isinstance(line.amount, Decimal)
    assert line.funding_source == "fna" and line.year == 2026


@pytest.mark.parametrize("data, message", [
    ({"amount": "-100"}, "L'importo non può essere negativo."),
    ({"amount": "cento euro"}, "Inserisci un numero, per esempio 12.500,00."),
    ({"amount": "100,555"}, "L'importo può avere al massimo due decimali"),
    ({"amount": "1.500"}, "L'importo può avere al massimo due decimali"),
    ({"amount": "0"}, "L'importo deve essere maggiore di zero."),
    ({"amount": "1e5"}, "Inserisci un numero, per esempio 12.500,00."),
    ({"amount": "NaN"}, "Inserisci un numero, per esempio 12.500,00."),
    ({"amount": ""}, "Indica l'importo."),
    ({"amount": "1000000000000"}, "L'importo è troppo grande."),
    ({"amount": "1,2,3"}, "Numero non valido"),
    ({"year": "2031"}, "L'anno deve essere compreso nel periodo del piano (2025–2027)."),
    ({"year": "duemila"}, "Inserisci un numero intero."),
    ({"funding_source": "bitcoin"}, "Scegli una fonte di finanziamento dell'elenco."),
    ({"note": "x" * 301}, "Al massimo 300 caratteri."),
])
def test_bad_budget_lines_are_refused_and_nothing_changes(client, login, plan, facilitator, action, data, message):
    login(facilitator)
    before = len(revisions())
    form = {"amount": "100", "funding_source": "fnps", "year": "2025", **data}
    response = client.post(f"/facilitazione/piano/{plan.id}/azioni/{action.id}/risorse/nuova", data=form)
    assert response.status_code == 400
    assert message in text(response)
    assert count(BudgetLine) == 0 and len(revisions()) == before
    assert f'value="{htmllib.escape(form["amount"], quote=True)}"' in response.get_data(as_text=True)


def test_the_operation_refuses_inexact_amounts_even_without_the_form(app, action, admin_user):
    from consulta.core.states import TransitionError
    from consulta.plan import record_operations as ops

    for amount, message in ((Decimal("-1"), "negativo"), (Decimal("1.001"), "due decimali"),
                            (Decimal("0"), "maggiore di zero"), (1.5, "Indica un importo")):
        with pytest.raises(TransitionError, match=message):
            ops.add_budget_line(action, admin_user, amount=amount, funding_source="fnps", year=2025)
    db.session.rollback()
    assert count(BudgetLine) == 0


def test_editing_a_budget_line_records_old_and_new_amounts(client, login, plan, facilitator, action, admin_user):
    from consulta.plan import record_operations as ops

    line = ops.add_budget_line(action, admin_user, amount=Decimal("1000.00"), funding_source="fnps", year=2025)
    db.session.commit()
    login(facilitator)
    form = text(client.get(f"/facilitazione/piano/{plan.id}/risorse/{line.id}/modifica"))
    assert 'value="1000,00"' in form
    response = client.post(f"/facilitazione/piano/{plan.id}/risorse/{line.id}/modifica",
                           data={"amount": "1.500,25", "funding_source": "fnps", "year": "2025"})
    assert response.status_code == 302
    change = revisions(item_type="budget_line", operation="update")[0]
    assert (change.field, change.old_value, change.new_value) == ("amount", "1000.00", "1500.25")
    assert change.owner_type == "action" and change.owner_id == action.id
    log = text(client.get(f"/piano/{plan.id}/modifiche/azione/{action.id}"))
    assert "1.000,00 €" in log and "1.500,25 €" in log


def test_deleting_an_action_deletes_its_lines_and_says_so(client, login, plan, facilitator, action, admin_user):
    from consulta.plan import record_operations as ops

    ops.add_budget_line(action, admin_user, amount=Decimal("10"), funding_source="pnrr", year=2027)
    ops.add_indicator(action, admin_user, name="Persone", unit="", baseline=None, target=Decimal("5"))
    db.session.commit()
    action_id = action.id
    login(facilitator)
    response = client.post(f"/facilitazione/piano/{plan.id}/azioni/{action_id}/elimina")
    assert response.status_code == 302
    assert count(PlanAction) == 0 and count(BudgetLine) == 0 and count(Indicator) == 0
    deleted = {(r.item_type, r.operation) for r in revisions(operation="delete")}
    assert deleted == {("action", "delete"), ("budget_line", "delete"), ("indicator", "delete")}
    log = text(client.get(f"/piano/{plan.id}/modifiche/azione/{action_id}"))
    assert "non è più nel piano" in log and "Eliminazione" in log


# --------------------------------------------------------------------------- indicators

@pytest.mark.parametrize("data, message", [
    ({"target": ""}, "Indica il valore obiettivo."),
    ({"target": "-3"}, "Il valore non può essere negativo."),
    ({"target": "1,234"}, "Al massimo due decimali"),
    ({"baseline": "abc"}, "Inserisci un numero, per esempio 12.500,00."),
    ({"name": ""}, "Questo campo è obbligatorio."),
    ({"unit": "x" * 41}, "Al massimo 40 caratteri."),
])
def test_bad_indicators_are_refused(client, login, plan, facilitator, action, data, message):
    login(facilitator)
    form = {"name": "Anziani raggiunti", "unit": "persone", "target": "120", **data}
    response = client.post(f"/facilitazione/piano/{plan.id}/azioni/{action.id}/indicatori/nuovo", data=form)
    assert response.status_code == 400
    assert message in text(response)
    assert count(Indicator) == 0


def test_an_indicator_with_a_target(client, login, plan, facilitator, action):
    login(facilitator)
    response = client.post(f"/facilitazione/piano/{plan.id}/azioni/{action.id}/indicatori/nuovo",
                           data={"name": "Anziani raggiunti", "unit": "persone", "baseline": "0", "target": "120"})
    assert response.status_code == 302
    indicator = db.session.execute(select(Indicator)).scalar_one()
    assert indicator.target == Decimal("120.00") and indicator.baseline == Decimal("0.00")
    assert "Obiettivo: 120 persone" in text(client.get(f"/piano/{plan.id}/"))


# --------------------------------------------------------------------------- permissions

@pytest.mark.parametrize("who, status_code", [
    ("anonymous", 302), ("participant", 403), ("other_facilitator", 403), ("facilitator", 200), ("admin", 200),
])
def test_who_may_open_the_action_editor(client, login, plan, action, who, status_code, facilitator,
                                        other_facilitator, other_table, admin_user, create_user):
    people = {"participant": create_user(), "other_facilitator": other_facilitator, "facilitator": facilitator,
              "admin": admin_user}
    if who in people:
        login(people[who])
    response = client.get(f"/facilitazione/piano/{plan.id}/azioni/{action.id}/modifica")
    assert response.status_code == status_code
    if who == "anonymous":
        assert "/accedi" in response.headers["Location"]


@pytest.mark.parametrize("status, editable", [
    ("preparing", True), ("consulting", True), ("adopted", False), ("monitoring", False), ("closed", False),
])
@pytest.mark.parametrize("who", ["facilitator", "admin"])
def test_the_record_is_editable_only_before_adoption(client, login, plan, action, facilitator, admin_user, who,
                                                     status, editable):
    from datetime import date

    plan.status = status
    if status not in ("preparing", "consulting"):
        plan.adoption_reference, plan.adoption_date = "Delibera n. 1", date(2025, 5, 1)
    db.session.commit()
    login(facilitator if who == "facilitator" else admin_user)
    response = client.post(f"/facilitazione/piano/{plan.id}/azioni/{action.id}/risorse/nuova",
                           data={"amount": "10", "funding_source": "fnps", "year": "2025"})
    assert response.status_code == (302 if editable else 409)
    assert count(BudgetLine) == (1 if editable else 0)
    if not editable:
        assert ("aggiornamento" in text(response)) or ("concluso" in text(response))


def test_items_of_another_plan_are_not_found_through_this_plan(client, login, plan, action, admin_user,
                                                                create_plan):
    other = create_plan(title="Altro piano", period_start=2028, period_end=2030)
    login(admin_user)
    assert client.get(f"/facilitazione/piano/{other.id}/azioni/{action.id}/").status_code == 404
    assert client.get(f"/facilitazione/piano/{other.id}/obiettivi/{action.objective_id}/").status_code == 404
    assert client.get(f"/facilitazione/piano/{plan.id}/azioni/999999/").status_code == 404


def test_posts_without_csrf_are_refused(client, login, plan, facilitator, action):
    login(facilitator)
    response = client.post(f"/facilitazione/piano/{plan.id}/azioni/{action.id}/risorse/nuova",
                           data={"amount": "10", "funding_source": "fnps", "year": "2025"}, csrf=False)
    assert response.status_code == 400
    assert count(BudgetLine) == 0


def test_budget_lines_of_an_action_must_belong_to_its_plan_in_the_database(app, action, create_plan):
    from sqlalchemy.exc import IntegrityError

    other = create_plan(title="Altro piano", period_start=2028, period_end=2030)
    db.session.add(BudgetLine(plan_id=other.id, action_id=action.id, amount=Decimal("1"), funding_source="fnps",
                              year=2028))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_objectives_form_shows_its_area(client, login, plan, facilitator, objective):
    login(facilitator)
    page = text(client.get(f"/facilitazione/piano/{plan.id}/aree/{objective.area_id}/obiettivi/nuovo"))
    assert "Anziani e non autosufficienza" in page
    assert count(PlanObjective) == 1
