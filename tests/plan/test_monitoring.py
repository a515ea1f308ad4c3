"""Monitoring: while the plan is in monitoring, each action gets a status and progress
updates with indicator values, shown publicly as progress against the targets."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from consulta.extensions import db
from consulta.plan.record import IndicatorValue, PlanAction, PlanRevision, ProgressUpdate
from tests.plan.helpers import count, section, text


@pytest.fixture
def action(stage, admin_user, build_action):
    from consulta.plan import record_operations as ops

    item = build_action(stage["area"], admin_user, decisions=[stage["decisions"]["Centro diurno a Narni"]])
    ops.add_indicator(item, admin_user, name="Anziani accolti", unit="persone", baseline=Decimal("0"),
                      target=Decimal("40"))
    ops.add_indicator(item, admin_user, name="Ore di apertura", unit="ore", baseline=None, target=Decimal("1500"))
    db.session.commit()
    return item


def monitor(plan, admin_user):
    from consulta.plan.operations import change_plan_status

    change_plan_status(plan, "adopted", admin_user, adoption_reference="Delibera n. 4", adoption_date=date(2025, 6, 30))
    change_plan_status(plan, "monitoring", admin_user)
    db.session.commit()


def test_facilitator_records_status_and_progress_shown_publicly(client, login, plan, action, admin_user,
                                                                facilitator):
    monitor(plan, admin_user)
    accolti, ore = action.indicators
    login(facilitator)

    status = client.post(f"/facilitazione/piano/{plan.id}/azioni/{action.id}/stato", data={"status": "in_progress"})
    assert status.status_code == 302
    progress = client.post(f"/facilitazione/piano/{plan.id}/azioni/{action.id}/avanzamenti", data={
        "reported_on": "2025-10-01", "text": "Il centro ha **aperto** a settembre.", f"value_{accolti.id}": "18",
        f"value_{ore.id}": ""})
    assert progress.status_code == 302
    assert "Avanzamento registrato." in text(client.get(progress.headers["Location"]))

    db.session.refresh(action)
    assert action.status == "in_progress"
    update = db.session.execute(select(ProgressUpdate)).scalar_one()
    assert update.author_name == "Fabio Facilitatore" and update.reported_on == date(2025, 10, 1)
    assert [(v.indicator_id, v.value) for v in update.values] == [(accolti.id, Decimal("18.00"))]
    kinds = {r.kind for r in db.session.execute(select(PlanRevision).where(
        PlanRevision.operation.in_(("status", "progress")))).scalars()}
    assert kinds == {"monitoring"}

    client.logout()
    page = text(client.get(f"/piano/{plan.id}/"))
    card = page.split(f'id="azione-{action.id}"')[1].split("</article>")[0]
    assert "In corso" in card
    assert "Raggiunto 18 su 40 persone (45%) al 1 ottobre 2025" in card
    assert 'aria-valuenow="45"' in card and "plan-w-45" in card
    assert "Obiettivo: 1.500 ore · nessun valore ancora rilevato" in card
    assert "Il centro ha <strong>aperto</strong> a settembre." in card
    monitoring = section(page, "monitoraggio")
    assert "In corso" in monitoring and ">1</td>" in monitoring


def test_the_latest_value_counts_and_progress_caps_at_100(client, login, plan, action, admin_user):
    from consulta.plan import record_operations as ops

    monitor(plan, admin_user)
    accolti = action.indicators[0]
    assert action.progress_updates == []  # a loaded collection gets the new rows: still not a frozen change
    ops.add_progress_update(action, admin_user, reported_on=date(2025, 12, 1), text="Oltre.",
                            values={accolti.id: Decimal("55")})
    ops.add_progress_update(action, admin_user, reported_on=date(2025, 9, 1), text="Prima.",
                            values={accolti.id: Decimal("10")})
    db.session.commit()
    card = text(client.get(f"/piano/{plan.id}/")).split(f'id="azione-{action.id}"')[1].split("</article>")[0]
    assert "Raggiunto 55 su 40 persone (100%) al 1 dicembre 2025" in card
    assert card.index("1 dicembre 2025") < card.index("1 settembre 2025")


@pytest.mark.parametrize("data, message", [
    ({"text": ""}, "Descrivi l'avanzamento."),
    ({"reported_on": ""}, "Indica la data dell'avanzamento."),
    ({"reported_on": (date.today() + timedelta(days=3)).isoformat()}, "La data dell'avanzamento non può essere futura."),
    ({"value": "-4"}, "Il valore non può essere negativo."),
    ({"value": "dodici"}, "Inserisci un numero, per esempio 12.500,00."),
    ({"value": "1,234"}, "Al massimo due decimali"),
    ({"text": "x" * 4001}, "Al massimo 4000 caratteri."),
])
def test_bad_progress_updates_are_refused(client, login, plan, action, admin_user, facilitator, data, message):
    monitor(plan, admin_user)
    accolti = action.indicators[0]
    login(facilitator)
    data = dict(data)  # the parameters are shared by both backends' runs
    form = {"reported_on": "2025-10-01", "text": "Fatto.", f"value_{accolti.id}": data.pop("value", "3"), **data}
    response = client.post(f"/facilitazione/piano/{plan.id}/azioni/{action.id}/avanzamenti", data=form)
    assert response.status_code == 400
    assert message in text(response)
    assert count(ProgressUpdate) == 0 and count(IndicatorValue) == 0


def test_an_unknown_status_is_refused(client, login, plan, action, admin_user, facilitator):
    monitor(plan, admin_user)
    login(facilitator)
    response = client.post(f"/facilitazione/piano/{plan.id}/azioni/{action.id}/stato", data={"status": "finita"})
    assert response.status_code == 400
    assert "Scegli uno stato dell'elenco." in text(response)
    assert db.session.execute(select(PlanAction.status)).scalar_one() == "planned"


def test_an_indicator_of_another_action_is_refused_by_the_operation(app, plan, action, admin_user, stage,
                                                                    build_action):
    from consulta.core.states import TransitionError
    from consulta.plan import record_operations as ops

    other = build_action(stage["area"], admin_user, title="Altra")
    monitor(plan, admin_user)
    with pytest.raises(TransitionError, match="non appartiene a questa azione"):
        ops.add_progress_update(other, admin_user, reported_on=date(2025, 9, 1), text="x",
                                values={action.indicators[0].id: Decimal("1")})
    db.session.rollback()


@pytest.mark.parametrize("status", ["consulting", "adopted", "closed"])
def test_monitoring_happens_only_in_monitoring(client, login, plan, action, admin_user, status):
    if status != "consulting":
        plan.status, plan.adoption_reference, plan.adoption_date = status, "Delibera", date(2025, 1, 1)
        db.session.commit()
    login(admin_user)
    response = client.post(f"/facilitazione/piano/{plan.id}/azioni/{action.id}/stato", data={"status": "done"})
    assert response.status_code == 409
    assert "quando il piano è in monitoraggio" in text(response)
    response = client.post(f"/facilitazione/piano/{plan.id}/azioni/{action.id}/avanzamenti",
                           data={"reported_on": "2025-10-01", "text": "x"})
    assert response.status_code == 409
    assert count(ProgressUpdate) == 0


def test_monitoring_forms_are_offered_only_while_monitoring(client, login, plan, action, admin_user):
    login(admin_user)
    assert "Registra un avanzamento" not in text(client.get(f"/facilitazione/piano/{plan.id}/azioni/{action.id}/"))
    monitor(plan, admin_user)
    page = text(client.get(f"/facilitazione/piano/{plan.id}/azioni/{action.id}/"))
    assert "Registra un avanzamento" in page and "Anziani accolti (persone)" in page


def test_other_facilitators_do_not_monitor_this_area(client, login, plan, action, admin_user, other_facilitator,
                                                     other_table):
    monitor(plan, admin_user)
    login(other_facilitator)
    response = client.post(f"/facilitazione/piano/{plan.id}/azioni/{action.id}/stato", data={"status": "done"})
    assert response.status_code == 403
