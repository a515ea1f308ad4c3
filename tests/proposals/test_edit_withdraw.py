"""Authors correct their proposal within the grace window and withdraw it before evaluation."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from consulta.core.audit import AuditEvent
from consulta.core.notify import Notification
from consulta.extensions import db
from consulta.proposals.models import Proposal
from consulta.tavoli.models import Follow


def audit_rows(proposal, action):
    return db.session.execute(
        select(AuditEvent).where(AuditEvent.subject_type == "proposal", AuditEvent.subject_id == proposal.id,
                                 AuditEvent.action == action)).scalars().all()


def reloaded(proposal) -> Proposal:
    db.session.expire_all()
    return db.session.get(Proposal, proposal.id)


# --------------------------------------------------------------------------- edit

def test_the_author_edits_within_the_grace_window(cast, open_tavolo, create_objective, create_proposal, login_as):
    objective = create_objective(open_tavolo)
    proposal = create_proposal(open_tavolo, cast.citizen, title="Titolo con un refuso", created_minutes_ago=10)
    client = login_as(cast.citizen)
    assert "Modifica" in client.get(f"/proposte/{proposal.id}/").get_data(as_text=True)

    form = client.get(f"/proposte/{proposal.id}/modifica")
    assert form.status_code == 200
    assert 'value="Titolo con un refuso"' in form.get_data(as_text=True)
    response = client.post(f"/proposte/{proposal.id}/modifica", data={
        "title": "Titolo corretto", "body": "Testo *nuovo*.", "objective": str(objective.id)})

    assert response.status_code == 302 and response.headers["Location"] == f"/proposte/{proposal.id}/"
    edited = reloaded(proposal)
    assert edited.title == "Titolo corretto" and edited.body == "Testo *nuovo*."
    assert edited.body_html == "<p>Testo <em>nuovo</em>.</p>" and edited.objective_id == objective.id
    assert edited.state == "published"
    [event] = audit_rows(proposal, "proposal.edit")
    assert event.actor_id == cast.citizen.id
    assert event.changes["title"] == ["Titolo con un refuso", "Titolo corretto"]
    assert event.changes["objective_id"] == [None, objective.id] and event.changes["body_changed"] is True
    html = client.get(f"/proposte/{proposal.id}/").get_data(as_text=True)
    assert "Le modifiche alla proposta sono state salvate." in html and "Titolo corretto" in html


def test_after_the_grace_window_editing_is_refused(cast, open_tavolo, create_proposal, login_as):
    proposal = create_proposal(open_tavolo, cast.citizen, title="Titolo originale", created_minutes_ago=31)
    client = login_as(cast.citizen)
    assert "/modifica" not in client.get(f"/proposte/{proposal.id}/").get_data(as_text=True)

    for response in (client.get(f"/proposte/{proposal.id}/modifica"),
                     client.post(f"/proposte/{proposal.id}/modifica", data={"title": "Nuovo", "body": "Nuovo"})):
        assert response.status_code == 403
        assert "Il tempo per modificare la proposta è scaduto" in response.get_data(as_text=True)
        assert "30 minuti" in response.get_data(as_text=True)
    assert reloaded(proposal).title == "Titolo originale"
    assert audit_rows(proposal, "proposal.edit") == []


def test_the_grace_window_follows_the_setting(cast, open_tavolo, create_proposal, login_as, app):
    proposal = create_proposal(open_tavolo, cast.citizen, created_minutes_ago=31)
    app.config["EDIT_GRACE_MINUTES"] = 60
    try:
        assert login_as(cast.citizen).get(f"/proposte/{proposal.id}/modifica").status_code == 200
    finally:
        app.config["EDIT_GRACE_MINUTES"] = 30


EDIT_EXPECTED = {"anonymous": 302, "participant": 403, "representative": 403, "facilitator": 403, "admin": 403,
                 "blocked": 403}


@pytest.mark.parametrize("role", list(EDIT_EXPECTED))
def test_nobody_but_the_author_edits(cast, open_tavolo, create_proposal, create_user, login_as, role):
    # The author is a third person who may act (an unverified account cannot submit: core.permissions.may_act).
    author = create_user(email="terza.persona@example.org", display_name="Terza Persona")
    proposal = create_proposal(open_tavolo, author, title="Di un altro")

    response = login_as(cast.get(role)).post(f"/proposte/{proposal.id}/modifica",
                                             data={"title": "Preso", "body": "Preso"})

    assert response.status_code == EDIT_EXPECTED[role]
    if response.status_code == 403:
        assert "Puoi modificare solo le proposte che hai presentato tu." in response.get_data(as_text=True)
    assert reloaded(proposal).title == "Di un altro"


def test_a_blocked_author_cannot_edit(cast, open_tavolo, create_proposal, create_user, login_as):
    from consulta.admin.operations import block_user

    author = create_user(display_name="Bice Bloccata dopo")
    proposal = create_proposal(open_tavolo, author, title="Prima del blocco")
    block_user(author, cast.admin, "Messaggi offensivi")
    db.session.commit()
    response = login_as(author).post(f"/proposte/{proposal.id}/modifica", data={"title": "X", "body": "X"})
    assert response.status_code == 403
    assert reloaded(proposal).title == "Prima del blocco"


def test_a_withdrawn_proposal_cannot_be_edited(cast, open_tavolo, create_proposal, login_as):
    proposal = create_proposal(open_tavolo, cast.citizen, state="withdrawn")
    response = login_as(cast.citizen).get(f"/proposte/{proposal.id}/modifica")
    assert response.status_code == 409
    assert "non può più essere modificata" in response.get_data(as_text=True)


@pytest.mark.parametrize(("data", "message"), [
    ({"title": "", "body": "Testo rimasto"}, "Scrivi il titolo della proposta."),
    ({"title": "t" * 10_000, "body": "Testo rimasto"}, "Il titolo può avere al massimo 200 caratteri."),
    ({"title": "Titolo", "body": "   "}, "Scrivi il testo della proposta."),
])
def test_a_bad_edit_is_refused_and_nothing_changes(cast, open_tavolo, create_proposal, login_as, data, message):
    proposal = create_proposal(open_tavolo, cast.citizen, title="Titolo buono", body="Testo buono")

    response = login_as(cast.citizen).post(f"/proposte/{proposal.id}/modifica", data=data)

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    stored = reloaded(proposal)
    assert (stored.title, stored.body) == ("Titolo buono", "Testo buono")
    assert audit_rows(proposal, "proposal.edit") == []


def test_an_edit_cannot_link_another_tavolos_objective(cast, open_tavolo, create_tavolo, create_objective,
                                                      create_proposal, login_as):
    foreign = create_objective(create_tavolo(slug="giovani"), title="Obiettivo altrui")
    proposal = create_proposal(open_tavolo, cast.citizen)

    response = login_as(cast.citizen).post(f"/proposte/{proposal.id}/modifica", data={
        "title": "Titolo", "body": "Testo", "objective": str(foreign.id)})

    assert response.status_code == 400
    assert "appartiene a un altro tavolo" in response.get_data(as_text=True)
    assert reloaded(proposal).objective_id is None


def test_an_edit_keeps_an_objective_approved_meanwhile(cast, open_tavolo, create_objective, create_proposal,
                                                       login_as):
    objective = create_objective(open_tavolo, status="approved", title="Obiettivo approvato")
    proposal = create_proposal(open_tavolo, cast.citizen, objective=objective)
    client = login_as(cast.citizen)
    assert "Obiettivo approvato" in client.get(f"/proposte/{proposal.id}/modifica").get_data(as_text=True)

    response = client.post(f"/proposte/{proposal.id}/modifica", data={
        "title": "Titolo nuovo", "body": "Testo", "objective": str(objective.id)})

    assert response.status_code == 302
    assert reloaded(proposal).objective_id == objective.id


# --------------------------------------------------------------------------- withdraw

def test_the_author_withdraws_a_published_proposal_after_confirming(cast, open_tavolo, create_proposal,
                                                                    create_user, login_as):
    proposal = create_proposal(open_tavolo, cast.citizen, title="Proposta da ritirare")
    follower = create_user()
    db.session.add(Follow(user_id=follower.id, proposal_id=proposal.id))  # the author follows it already
    db.session.commit()
    client = login_as(cast.citizen)
    assert "Ritira la proposta" in client.get(f"/proposte/{proposal.id}/").get_data(as_text=True)

    confirm = client.get(f"/proposte/{proposal.id}/ritira")
    assert confirm.status_code == 200
    assert "Confermi il ritiro?" in confirm.get_data(as_text=True)
    assert reloaded(proposal).state == "published"  # opening the confirmation changes nothing

    response = client.post(f"/proposte/{proposal.id}/ritira", data={"reason": "Presentata per errore."})

    assert response.status_code == 302
    assert reloaded(proposal).state == "withdrawn"
    [event] = audit_rows(proposal, "proposal.withdraw")
    assert event.changes["state"] == ["published", "withdrawn"] and event.reason == "Presentata per errore."
    notified = db.session.execute(select(Notification.user_id, Notification.event)).all()
    assert notified == [(follower.id, "proposal.withdrawn")]
    html = client.get(f"/proposte/{proposal.id}/").get_data(as_text=True)
    assert "Hai ritirato la proposta." in html and "Ritirata" in html and "Presentata per errore." in html
    assert "/ritira" not in html

    again = client.post(f"/proposte/{proposal.id}/ritira", data={})
    assert again.status_code == 409
    assert "La proposta è già stata ritirata." in again.get_data(as_text=True)
    assert len(audit_rows(proposal, "proposal.withdraw")) == 1


def test_a_pending_proposal_can_be_withdrawn(cast, create_tavolo, create_proposal, login_as):
    tavolo = create_tavolo(slug="t", moderation="pre")
    proposal = create_proposal(tavolo, cast.citizen, state="submitted")
    assert login_as(cast.citizen).post(f"/proposte/{proposal.id}/ritira").status_code == 302
    assert reloaded(proposal).state == "withdrawn"


@pytest.mark.parametrize("state", ["under_review", "approved", "rejected"])
def test_after_evaluation_starts_the_proposal_cannot_be_withdrawn(cast, open_tavolo, create_proposal, login_as,
                                                                  state):
    proposal = create_proposal(open_tavolo, cast.citizen, state=state, facilitator=cast.facilitator)
    client = login_as(cast.citizen)
    assert "/ritira" not in client.get(f"/proposte/{proposal.id}/").get_data(as_text=True)

    response = client.post(f"/proposte/{proposal.id}/ritira")

    assert response.status_code == 409
    assert "non può più essere ritirata" in response.get_data(as_text=True)
    assert reloaded(proposal).state == state
    assert audit_rows(proposal, "proposal.withdraw") == []


WITHDRAW_EXPECTED = {"anonymous": 302, "participant": 403, "representative": 403, "facilitator": 403,
                     "admin": 403}


@pytest.mark.parametrize("role", list(WITHDRAW_EXPECTED))
def test_only_the_author_withdraws(cast, open_tavolo, create_proposal, create_user, login_as, role):
    proposal = create_proposal(open_tavolo, create_user())

    response = login_as(cast.get(role)).post(f"/proposte/{proposal.id}/ritira")

    assert response.status_code == WITHDRAW_EXPECTED[role]
    if response.status_code == 403:
        assert "Solo chi ha presentato la proposta può ritirarla." in response.get_data(as_text=True)
    assert reloaded(proposal).state == "published"


def test_a_too_long_withdrawal_reason_is_refused(cast, open_tavolo, create_proposal, login_as):
    proposal = create_proposal(open_tavolo, cast.citizen)
    response = login_as(cast.citizen).post(f"/proposte/{proposal.id}/ritira", data={"reason": "r" * 501})
    assert response.status_code == 400
    assert "Il motivo può avere al massimo 500 caratteri." in response.get_data(as_text=True)
    assert reloaded(proposal).state == "published"


def test_withdraw_needs_a_csrf_token(cast, open_tavolo, create_proposal, login_as):
    proposal = create_proposal(open_tavolo, cast.citizen)
    assert login_as(cast.citizen).post(f"/proposte/{proposal.id}/ritira", csrf=False).status_code == 400
    assert reloaded(proposal).state == "published"
