"""From inputs to plan: approved decisions of the plan's tavoli become plan objectives and
actions (or are attached to existing ones) with their provenance rows in the same step;
what is approved but not yet used is listed "da recepire"."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from consulta.extensions import db
from consulta.plan.record import PlanAction, PlanInput, PlanObjective, PlanRevision
from tests.plan.helpers import count, text


def take_in(client, plan, decisions, **data):
    return client.post(f"/facilitazione/piano/{plan.id}/recepisci",
                       data={"decisions": [d.id for d in decisions], **data})


def test_da_recepire_lists_only_approving_decisions_of_approved_minutes(client, login, plan, stage, facilitator):
    login(facilitator)
    page = text(client.get(f"/facilitazione/piano/{plan.id}/"))
    section = page.split('id="da-recepire"')[1].split("</section>")[0]
    assert "Centro diurno a Narni" in section and "Trasporto sociale serale" in section
    assert "Accolta in parte" in section
    assert "Piscina comunale" not in section  # rejected
    assert f"verbale n. {stage['minutes'].id}" in section


def test_facilitator_turns_two_decisions_into_a_new_objective_with_provenance(client, login, plan, stage, facilitator):
    d = stage["decisions"]
    login(facilitator)

    response = take_in(client, plan, [d["Centro diurno a Narni"], d["Trasporto sociale serale"]],
                       mode="new_objective", area=stage["area"].id, title="Servizi diurni per gli anziani",
                       description="Più **servizi** di giorno.")

    assert response.status_code == 302
    objective = db.session.execute(select(PlanObjective)).scalar_one()
    assert response.headers["Location"].endswith(f"/facilitazione/piano/{plan.id}/obiettivi/{objective.id}/")
    rows = db.session.execute(select(PlanInput).order_by(PlanInput.id)).scalars().all()
    assert [(r.plan_objective_id, r.decision_id, r.proposal_id) for r in rows] == [
        (objective.id, d["Centro diurno a Narni"].id, stage["centro"].id),
        (objective.id, d["Trasporto sociale serale"].id, stage["trasporto"].id)]
    assert objective.description_html == "<p>Più <strong>servizi</strong> di giorno.</p>"
    page = text(client.get(response.headers["Location"]))
    assert "Obiettivo «Servizi diurni per gli anziani» salvato con 2 decisioni recepite." in page
    # Nothing left to take in; the revisions say who did what.
    assert "Nessuna decisione in attesa" in text(client.get(f"/facilitazione/piano/{plan.id}/"))
    operations = db.session.execute(select(PlanRevision.operation, PlanRevision.actor_name)
                                    .order_by(PlanRevision.id)).all()
    assert ("link", "Fabio Facilitatore") in operations and ("create", "Fabio Facilitatore") in operations


def test_new_action_and_attach_to_an_existing_item(client, login, plan, stage, facilitator, build_action):
    d = stage["decisions"]
    action = build_action(stage["area"], facilitator)
    login(facilitator)

    response = take_in(client, plan, [d["Centro diurno a Narni"]], mode="new_action",
                       objective=action.objective_id, title="Trasporto per il centro diurno")
    assert response.status_code == 302
    created = db.session.execute(select(PlanAction).where(PlanAction.title == "Trasporto per il centro diurno")
                                 ).scalar_one()
    assert created.all_comuni and created.objective_id == action.objective_id

    response = take_in(client, plan, [d["Trasporto sociale serale"]], mode="attach", target=f"a:{action.id}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/azioni/{action.id}/")
    assert count(PlanInput, PlanInput.plan_action_id == action.id) == 1


def test_the_same_decision_may_feed_two_items_but_not_twice_the_same(client, login, plan, stage, facilitator,
                                                                       build_action):
    d = stage["decisions"]["Centro diurno a Narni"]
    action = build_action(stage["area"], facilitator, decisions=[d])
    login(facilitator)

    again = client.post(f"/facilitazione/piano/{plan.id}/azioni/{action.id}/collega", data={"decisions": [d.id]})
    assert again.status_code == 400
    assert "non si può recepire" in text(again)
    assert count(PlanInput) == 1

    other = take_in(client, plan, [d], mode="attach", target=f"o:{action.objective_id}")
    assert other.status_code == 400  # no longer "da recepire": attach it from the item's page
    ok = client.post(f"/facilitazione/piano/{plan.id}/obiettivi/{action.objective_id}/collega",
                     data={"decisions": [d.id]})
    assert ok.status_code == 302
    assert count(PlanInput) == 2


def test_a_rejected_decision_is_refused(client, login, plan, stage, facilitator):
    login(facilitator)
    response = take_in(client, plan, [stage["decisions"]["Piscina comunale"]], mode="new_objective",
                       area=stage["area"].id, title="Piscine")
    assert response.status_code == 400
    assert "Una delle decisioni scelte non si può recepire" in text(response)
    assert count(PlanObjective) == 0 and count(PlanInput) == 0


def test_the_operation_itself_refuses_rejected_foreign_and_draft_decisions(
        app, plan, stage, facilitator, admin_user, create_plan, create_tavolo, create_proposal, approve_decisions,
        create_user):
    """Defence in depth: whatever the form offers, the operation checks every decision."""
    from consulta.core.states import TransitionError
    from consulta.meetings.models import Decision, Minutes
    from consulta.plan import record_operations as ops

    with pytest.raises(TransitionError, match="solo le decisioni di accoglimento") as refused:
        ops.load_decisions(plan, admin_user, [stage["decisions"]["Piscina comunale"].id])
    assert refused.value.status == 400

    other_plan = create_plan(title="Piano 2028–2030", period_start=2028, period_end=2030)
    foreign_table = create_tavolo(plan=other_plan, slug="altro", facilitators=[facilitator])
    foreign = create_proposal(foreign_table, create_user(), title="Proposta di un altro piano")
    foreign_decision = approve_decisions(foreign_table, [(foreign, "approved")], by=facilitator).decisions[0]
    with pytest.raises(TransitionError, match="di un altro piano"):
        ops.load_decisions(plan, admin_user, [foreign_decision.id])

    draft = Minutes(meeting_id=stage["minutes"].meeting_id, tavolo_id=stage["minutes"].tavolo_id, status="draft",
                    corrects_id=stage["minutes"].id, text="Rettifica", text_html="<p>Rettifica</p>")
    draft.decisions.append(Decision(proposal_id=stage["centro"].id, subject_title="Centro", outcome="approved",
                                    method="consensus", motivation="m", motivation_html="<p>m</p>"))
    db.session.add(draft)
    db.session.commit()
    with pytest.raises(TransitionError, match="non ancora approvato"):
        ops.load_decisions(plan, admin_user, [draft.decisions[0].id])
    with pytest.raises(TransitionError, match="non esiste"):
        ops.load_decisions(plan, admin_user, [987654])


def test_another_plans_decision_posted_to_the_form_changes_nothing(
        client, login, plan, stage, facilitator, create_plan, create_tavolo, create_proposal, approve_decisions,
        create_user):
    other_plan = create_plan(title="Piano 2028–2030", period_start=2028, period_end=2030)
    foreign_table = create_tavolo(plan=other_plan, slug="altro", facilitators=[facilitator])
    foreign = create_proposal(foreign_table, create_user(), title="Proposta di un altro piano")
    decision = approve_decisions(foreign_table, [(foreign, "approved")], by=facilitator).decisions[0]
    revisions = count(PlanRevision)
    login(facilitator)

    response = take_in(client, plan, [decision], mode="new_objective", area=stage["area"].id, title="Estraneo")

    assert response.status_code == 400
    assert "Una delle decisioni scelte non si può recepire" in text(response)
    assert count(PlanObjective) == 0 and count(PlanInput) == 0 and count(PlanRevision) == revisions


def test_a_rectified_verbale_gives_way_to_its_rettifica(app, plan, stage, facilitator, table, approve_decisions):
    from consulta.meetings.operations import approve_minutes, create_rettifica
    from consulta.plan import queries

    rettifica = create_rettifica(stage["minutes"], facilitator)
    db.session.flush()
    approve_minutes(rettifica, facilitator)
    db.session.commit()

    pending = queries.pending_decisions(plan.id)
    assert {d.minutes_id for d in pending} == {rettifica.id}
    assert {d.subject_title for d in pending} == {"Centro diurno a Narni", "Trasporto sociale serale"}


def test_facilitators_take_in_only_their_tavoli_decisions_into_their_areas(
        client, login, plan, stage, other_facilitator, other_table, create_area, admin_user):
    poverta = create_area(plan, admin_user, title="Povertà", tavoli=[other_table])
    login(other_facilitator)

    page = text(client.get(f"/facilitazione/piano/{plan.id}/"))
    assert "Centro diurno a Narni" not in page.split('id="da-recepire"')[1].split("</section>")[0]

    response = take_in(client, plan, [stage["decisions"]["Centro diurno a Narni"]], mode="new_objective",
                       area=poverta.id, title="Non mio")
    assert response.status_code == 400
    assert count(PlanObjective) == 0
    # Nor can they open the other area's objective form.
    assert client.get(f"/facilitazione/piano/{plan.id}/aree/{stage['area'].id}/obiettivi/nuovo").status_code == 403


@pytest.mark.parametrize("data, message", [
    ({"mode": "new_objective", "title": ""}, "Indica il titolo."),
    ({"mode": "new_objective", "title": "x" * 301}, "Al massimo 300 caratteri."),
    ({"mode": "new_objective", "title": "Ok", "area": "999"}, "Scegli un'area su cui puoi lavorare."),
    ({"mode": "new_action", "title": "Ok", "objective": "abc"}, "Scegli un obiettivo su cui puoi lavorare."),
    ({"mode": "attach", "target": "a:999"}, "Scegli una voce del piano su cui puoi lavorare."),
    ({"mode": "boh", "title": "Ok"}, "Scegli una delle opzioni proposte."),
])
def test_take_in_form_refusals_keep_the_input(client, login, plan, stage, facilitator, data, message):
    login(facilitator)
    data = {"area": stage["area"].id, **data}
    response = take_in(client, plan, [stage["decisions"]["Centro diurno a Narni"]], **data)
    assert response.status_code == 400
    assert message in text(response)
    assert count(PlanObjective) == 0 and count(PlanInput) == 0


def test_no_decision_chosen(client, login, plan, stage, facilitator):
    login(facilitator)
    response = take_in(client, plan, [], mode="new_objective", area=stage["area"].id, title="Vuoto")
    assert response.status_code == 400
    assert "Scegli almeno una decisione da recepire." in text(response)


def test_detaching_an_input_is_a_revision(client, login, plan, stage, facilitator, build_action):
    d = stage["decisions"]["Centro diurno a Narni"]
    action = build_action(stage["area"], facilitator, decisions=[d])
    row = db.session.execute(select(PlanInput)).scalar_one()
    login(facilitator)

    response = client.post(f"/facilitazione/piano/{plan.id}/provenienze/{row.id}/scollega")

    assert response.status_code == 302
    assert count(PlanInput) == 0
    unlink = db.session.execute(select(PlanRevision).where(PlanRevision.operation == "unlink")).scalar_one()
    assert unlink.owner_type == "action" and unlink.owner_id == action.id
    assert "Centro diurno a Narni" in unlink.old_value
    # It is "da recepire" again.
    assert "Centro diurno a Narni" in text(client.get(f"/facilitazione/piano/{plan.id}/")).split(
        'id="da-recepire"')[1].split("</section>")[0]
