"""Adoption freezes the plan record; afterwards it changes only inside an aggiornamento,
a numbered revision set that the change log shows as such."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from consulta.core.notify import Notification
from consulta.extensions import db
from consulta.plan.models import Plan
from consulta.plan.record import BudgetLine, PlanRevision, RevisionSet
from tests.plan.helpers import count, text


@pytest.fixture
def action(stage, admin_user, build_action):
    return build_action(stage["area"], admin_user, budget=(("1000.00", "fnps", 2025),),
                        decisions=[stage["decisions"]["Centro diurno a Narni"]])


def adopt(client, plan, **data):
    return client.post(f"/facilitazione/piano/{plan.id}/adozione",
                       data={"adoption_reference": "Deliberazione del Coordinamento Istituzionale n. 4",
                             "adoption_date": "2025-06-30", **data})


def test_admin_adopts_the_plan_with_its_deliberation(client, login, plan, action, admin_user):
    login(admin_user)
    response = adopt(client, plan)
    assert response.status_code == 302
    db.session.refresh(plan)
    assert plan.status == "adopted"
    assert plan.adoption_reference == "Deliberazione del Coordinamento Istituzionale n. 4"
    assert plan.adoption_date == date(2025, 6, 30)
    page = text(client.get(response.headers["Location"]))
    assert "Il piano è adottato: il suo contenuto è ora congelato." in page
    assert "Contenuto congelato" in page
    public = text(client.get(f"/piano/{plan.id}/"))
    assert "Adottato con Deliberazione del Coordinamento Istituzionale n. 4 del 30 giugno 2025." in public


@pytest.mark.parametrize("data, message", [
    ({"adoption_reference": ""}, "Indica il riferimento della deliberazione."),
    ({"adoption_date": ""}, "Indica la data della deliberazione."),
    ({"adoption_date": "30/02/2025"}, "Data non valida"),
    ({"adoption_reference": "x" * 201}, "Al massimo 200 caratteri."),
])
def test_adoption_without_a_deliberation_is_refused(client, login, plan, action, admin_user, data, message):
    login(admin_user)
    response = adopt(client, plan, **data)
    assert response.status_code == 400
    assert message in text(response)
    db.session.refresh(plan)
    assert plan.status == "consulting" and plan.adoption_reference is None


def test_adoption_needs_the_reference_also_in_the_transition_and_the_database(app, plan, admin_user):
    from sqlalchemy.exc import IntegrityError

    from consulta.core.states import TransitionError
    from consulta.plan.operations import change_plan_status

    with pytest.raises(TransitionError, match="riferimento e la data della deliberazione"):
        change_plan_status(plan, "adopted", admin_user, adoption_reference=None, adoption_date=None)
    db.session.rollback()
    db.session.execute(Plan.__table__.update().values(status="consulting"))
    with pytest.raises(IntegrityError):
        db.session.execute(Plan.__table__.update().values(status="adopted"))
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("who, status_code", [("facilitator", 403), ("participant", 403), ("anonymous", 302)])
def test_only_admins_adopt(client, login, plan, facilitator, create_user, who, status_code):
    if who == "facilitator":
        login(facilitator)
    elif who == "participant":
        login(create_user())
    assert adopt(client, plan).status_code == status_code
    db.session.refresh(plan)
    assert plan.status == "consulting"


def test_a_plan_in_preparation_is_not_adopted(client, login, plan, admin_user):
    plan.status = "preparing"
    db.session.commit()
    login(admin_user)
    response = adopt(client, plan)
    assert response.status_code == 409
    db.session.refresh(plan)
    assert plan.status == "preparing"


def _adopted(plan, admin_user):
    from consulta.plan.operations import change_plan_status

    change_plan_status(plan, "adopted", admin_user, adoption_reference="Delibera n. 4", adoption_date=date(2025, 6, 30))
    db.session.commit()


def test_after_adoption_every_edit_is_refused(client, login, plan, action, admin_user, facilitator, stage):
    _adopted(plan, admin_user)
    line = action.budget_lines[0]
    before = count(PlanRevision)
    attempts = [
        (f"/facilitazione/piano/{plan.id}/risorse/{line.id}/modifica",
         {"amount": "2000", "funding_source": "fnps", "year": "2025"}),
        (f"/facilitazione/piano/{plan.id}/risorse/{line.id}/elimina", {}),
        (f"/facilitazione/piano/{plan.id}/azioni/{action.id}/risorse/nuova",
         {"amount": "5", "funding_source": "fna", "year": "2026"}),
        (f"/facilitazione/piano/{plan.id}/azioni/{action.id}/modifica", {"title": "Nuovo", "scope": "all"}),
        (f"/facilitazione/piano/{plan.id}/azioni/{action.id}/elimina", {}),
        (f"/facilitazione/piano/{plan.id}/obiettivi/{action.objective_id}/modifica", {"title": "Nuovo"}),
        (f"/facilitazione/piano/{plan.id}/aree/{stage['area'].id}/obiettivi/nuovo", {"title": "Nuovo"}),
        (f"/facilitazione/piano/{plan.id}/aree/nuova", {"title": "Nuova area"}),
        (f"/facilitazione/piano/{plan.id}/recepisci",
         {"decisions": [stage["decisions"]["Trasporto sociale serale"].id], "mode": "new_objective",
          "area": stage["area"].id, "title": "Tardivo"}),
    ]
    for who in (facilitator, admin_user):
        login(who)
        for path, data in attempts:
            response = client.post(path, data=data)
            if who is facilitator and path.endswith("/aree/nuova"):
                assert response.status_code == 403  # areas are the Ufficio di Piano's, frozen or not
                continue
            assert response.status_code == 409, path
            assert "per modificarlo l'Ufficio di Piano deve aprire un aggiornamento" in text(response)
        # The edit forms are not even offered.
        assert client.get(f"/facilitazione/piano/{plan.id}/azioni/{action.id}/modifica").status_code == 409
        page = text(client.get(f"/facilitazione/piano/{plan.id}/azioni/{action.id}/"))
        assert "Modifica l'azione" not in page and "Aggiungi una voce di spesa" not in page
        client.logout()
    db.session.refresh(line)
    assert line.amount == Decimal("1000.00") and count(PlanRevision) == before


def test_the_record_guard_refuses_a_change_that_bypasses_the_operations(app, plan, action, admin_user):
    from consulta.core.states import TransitionError

    _adopted(plan, admin_user)
    line = db.session.execute(select(BudgetLine)).scalar_one()
    line.amount = Decimal("1.00")
    with pytest.raises(TransitionError) as refused:
        db.session.flush()
    assert refused.value.status == 409
    db.session.rollback()
    db.session.add(BudgetLine(plan_id=plan.id, action_id=action.id, amount=Decimal("3"), funding_source="fna",
                              year=2025))
    with pytest.raises(TransitionError):
        db.session.flush()
    db.session.rollback()
    assert db.session.execute(select(BudgetLine.amount)).scalars().all() == [Decimal("1000.00")]


def test_aggiornamento_changes_a_budget_line_and_the_log_shows_it(client, login, plan, action, admin_user,
                                                                  facilitator):
    _adopted(plan, admin_user)
    line = action.budget_lines[0]
    login(admin_user)

    missing = client.post(f"/facilitazione/piano/{plan.id}/aggiornamenti/nuovo", data={"reason": ""})
    assert missing.status_code == 400 and "Indica il motivo dell'aggiornamento." in text(missing)
    opened = client.post(f"/facilitazione/piano/{plan.id}/aggiornamenti/nuovo",
                         data={"reason": "Aggiornamento annuale 2026"})
    assert opened.status_code == 302
    assert "Aggiornamento n. 1 aperto" in text(client.get(opened.headers["Location"]))
    twice = client.post(f"/facilitazione/piano/{plan.id}/aggiornamenti/nuovo", data={"reason": "Ancora"})
    assert twice.status_code == 409 and "C'è già un aggiornamento aperto" in text(twice)
    assert count(RevisionSet) == 1
    client.logout()

    login(facilitator)
    response = client.post(f"/facilitazione/piano/{plan.id}/risorse/{line.id}/modifica",
                           data={"amount": "1.250,00", "funding_source": "fnps", "year": "2025"})
    assert response.status_code == 302
    change = db.session.execute(select(PlanRevision).where(PlanRevision.item_type == "budget_line",
                                                           PlanRevision.operation == "update")).scalar_one()
    assert change.kind == "aggiornamento" and change.revision_set.number == 1
    assert (change.old_value, change.new_value) == ("1000.00", "1250.00")

    log = text(client.get(f"/piano/{plan.id}/modifiche"))
    assert "Aggiornamento n. 1" in log and "Aggiornamento annuale 2026" in log
    assert "1.000,00 €" in log and "1.250,00 €" in log
    assert log.index("1.000,00 €") < log.index("1.250,00 €")
    client.logout()

    login(admin_user)
    closed = client.post(f"/facilitazione/piano/{plan.id}/aggiornamenti/chiudi",
                         data={"approval_reference": "Delibera n. 9", "approval_date": "2026-03-01"})
    assert closed.status_code == 302
    assert "di nuovo congelato" in text(client.get(closed.headers["Location"]))
    again = client.post(f"/facilitazione/piano/{plan.id}/risorse/{line.id}/modifica",
                        data={"amount": "1", "funding_source": "fnps", "year": "2025"})
    assert again.status_code == 409
    assert "approvato con Delibera n. 9 del 1 marzo 2026" in text(client.get(f"/piano/{plan.id}/modifiche"))


def test_closing_an_aggiornamento_needs_both_reference_and_date_or_none(client, login, plan, action, admin_user):
    _adopted(plan, admin_user)
    login(admin_user)
    client.post(f"/facilitazione/piano/{plan.id}/aggiornamenti/nuovo", data={"reason": "Annuale"})
    response = client.post(f"/facilitazione/piano/{plan.id}/aggiornamenti/chiudi",
                           data={"approval_reference": "Delibera n. 9"})
    assert response.status_code == 400
    assert "Indica sia il riferimento sia la data della deliberazione" in text(response)
    assert db.session.execute(select(RevisionSet.closed_at)).scalar_one() is None


def test_the_plan_cannot_be_closed_with_an_open_aggiornamento(app, plan, action, admin_user):
    from consulta.core.states import TransitionError
    from consulta.plan import record_operations as ops
    from consulta.plan.operations import change_plan_status

    _adopted(plan, admin_user)
    change_plan_status(plan, "monitoring", admin_user)
    ops.open_aggiornamento(plan, admin_user, reason="Annuale")
    db.session.commit()
    with pytest.raises(TransitionError, match="aggiornamento del piano ancora aperto"):
        change_plan_status(plan, "closed", admin_user)
    db.session.rollback()


def test_one_open_aggiornamento_per_plan_in_the_database(app, plan, action, admin_user):
    from sqlalchemy.exc import IntegrityError

    from consulta.core.db import utcnow

    _adopted(plan, admin_user)
    db.session.add_all([
        RevisionSet(plan_id=plan.id, number=1, reason="a", opened_at=utcnow(), opened_by_name="x"),
        RevisionSet(plan_id=plan.id, number=2, reason="b", opened_at=utcnow(), opened_by_name="x"),
    ])
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_adoption_notifies_the_followers_of_the_plans_tavoli(client, login, plan, table, action, admin_user,
                                                              create_user):
    from consulta.tavoli.models import Follow

    follower = create_user(email="segue@example.org")
    blocked = create_user(email="bloccato@example.org", blocked_reason="Spam")
    unverified = create_user(email="nuovo@example.org", verified=False)
    bystander = create_user(email="altro@example.org")
    db.session.add_all([Follow(user_id=u.id, tavolo_id=table.id) for u in (follower, blocked, unverified)])
    db.session.commit()
    login(admin_user)
    assert adopt(client, plan).status_code == 302
    notes = db.session.execute(select(Notification).where(Notification.event == "plan.adopted")).scalars().all()
    assert [n.user_id for n in notes] == [follower.id]
    assert notes[0].subject_type == "plan" and notes[0].subject_id == plan.id
    assert notes[0].data == {"title": plan.title}
    assert bystander.id not in [n.user_id for n in notes]
