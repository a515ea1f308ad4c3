"""Approving minutes seals them with a SHA-256, applies their decisions, tells authors and
followers; afterwards nothing (UI, routes, ORM, database) changes them; a rettifica corrects them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import render_template_string
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from consulta.core.audit import AuditEvent
from consulta.core.notify import Notification
from consulta.extensions import db
from consulta.meetings.canonical import content_hash
from consulta.meetings.models import Attendance, Decision, Dissent, ImmutableMinutes, Minutes
from consulta.meetings.queries import decision_for
from consulta.tavoli.models import Follow
from tests.database import sql_connection
from tests.meetings.helpers import page_text


def last_audit_id() -> int:
    """The newest audit event so far: what an act writes comes after it."""
    return db.session.execute(select(func.coalesce(func.max(AuditEvent.id), 0))).scalar_one()


@pytest.fixture
def held(table, create_meeting):
    return create_meeting(table, title="Incontro di marzo", starts_in=timedelta(hours=-3))


@pytest.fixture
def staged(table, facilitator, held, create_minutes, create_seat, create_proposal, create_objective, citizen,
          create_user):
    """A draft verbale with two members present and decisions on proposals and objectives."""
    auser = create_seat(table, name="Auser Narni")
    cgil = create_seat(table, name="CGIL Terni", type="union")
    centro = create_proposal(table, citizen, title="Centro diurno a Narni")
    trasporto = create_proposal(table, citizen, title="Trasporto sociale", state="under_review",
                                facilitator=facilitator)
    rinvio = create_proposal(table, citizen, title="Sportello unico")
    domicilio = create_objective(table, title="Domiciliarità")
    vecchio = create_objective(table, title="Obiettivo superato")
    minutes = create_minutes(held, seats=[auser, cgil], decisions=[
        (centro, "approved"), (trasporto, "rejected"), (rinvio, "deferred"), (domicilio, "approved"),
        (vecchio, "rejected")])
    db.session.add(Dissent(decision_id=minutes.decisions[1].id, organisation_id=cgil.organisation.id,
                           organisation_name=cgil.organisation.name, category="union", text="Serve un trasporto."))
    tavolo_follower = create_user(email="segue@example.org", display_name="Sara Segue")
    proposal_follower = create_user(email="pietro@example.org", display_name="Pietro Segue")
    db.session.add_all([Follow(user_id=tavolo_follower.id, tavolo_id=table.id),
                        Follow(user_id=proposal_follower.id, proposal_id=centro.id)])
    db.session.commit()
    return {"minutes": minutes, "centro": centro, "trasporto": trasporto, "rinvio": rinvio, "domicilio": domicilio,
            "vecchio": vecchio, "tavolo_follower": tavolo_follower, "proposal_follower": proposal_follower,
            "citizen": citizen, "auser": auser, "cgil": cgil}


def test_approval_seals_the_minutes_and_applies_every_decision(client, staged, facilitator, approve):
    minutes = staged["minutes"]
    before = last_audit_id()

    response = approve(minutes, facilitator)

    assert response.status_code == 302 and response.headers["Location"] == f"/verbali/{minutes.id}/"
    db.session.refresh(minutes)
    assert minutes.status == "approved" and minutes.approved_by_name == "Fabio Facilitatore"
    assert re.fullmatch(r"[0-9a-f]{64}", minutes.content_hash)
    assert minutes.content_hash == content_hash(minutes)
    assert (minutes.members_present, minutes.quorum_reached) == (2, True)

    for key in ("centro", "trasporto", "rinvio", "domicilio", "vecchio"):
        db.session.refresh(staged[key])
    centro, trasporto = staged["centro"], staged["trasporto"]
    assert (centro.state, trasporto.state, staged["rinvio"].state) == ("approved", "rejected", "published")
    assert centro.answer == "Motivazione per Centro diurno a Narni." and centro.answered_by_id == facilitator.id
    assert trasporto.answer == "Motivazione per Trasporto sociale."
    assert (staged["domicilio"].status, staged["vecchio"].status) == ("approved", "dropped")

    audit = db.session.execute(select(AuditEvent).where(AuditEvent.id > before).order_by(AuditEvent.id)
                               ).scalars().all()
    actions = [(a.subject_type, a.action) for a in audit]
    assert ("minutes", "minutes.approve") in actions
    assert ("objective", "objective.approve") in actions and ("objective", "objective.drop") in actions
    # Each move of a proposal is audited and points at the verbale that made it.
    moves = [a for a in audit if a.subject_type == "proposal" and a.subject_id == centro.id]
    assert moves and all(a.changes["minutes_id"] == minutes.id for a in moves)
    assert moves[0].changes["state"][0] == "published" and moves[-1].changes["state"][1] == "approved"

    notes = db.session.execute(select(Notification).where(Notification.event == "minutes.approved")).scalars().all()
    assert sorted(n.user_id for n in notes) == sorted(
        [staged["citizen"].id, staged["tavolo_follower"].id, staged["proposal_follower"].id])
    decisions = {d["title"]: d for d in notes[0].data["decisions"]}
    assert decisions["Centro diurno a Narni"]["outcome"] == "approved"
    assert decisions["Trasporto sociale"]["outcome_label"] == "Non accolta"
    assert notes[0].data["content_hash"] == minutes.content_hash

    page = page_text(client.get(f"/verbali/{minutes.id}/"))
    assert minutes.content_hash in page
    assert f'href="/proposte/{centro.id}/"' in page and "Serve un trasporto." in page
    assert "Organizzazione sindacale" in page and "Quorum raggiunto" in page
    assert "Modifica il testo" not in page and "Aggiungi una decisione" not in page


def test_the_proposal_page_partial_shows_the_decision_with_a_link_to_the_minutes(app, staged, facilitator, approve):
    approve(staged["minutes"], facilitator)
    proposal = db.session.get(type(staged["centro"]), staged["centro"].id)

    with app.test_request_context("/"):
        html = render_template_string('{% include "meetings/_proposal_decision.html" %}',
                                      decision=decision_for(proposal))

    assert "Decisione del tavolo" in html and "Accolta" in html
    assert f'href="/verbali/{staged["minutes"].id}/"' in html
    with app.test_request_context("/"):
        assert render_template_string('{% include "meetings/_proposal_decision.html" %}',
                                      decision=decision_for(staged["rinvio"])).strip() != ""  # a deferral too


@pytest.mark.parametrize(("text", "with_attendance", "message"), [
    ("", True, "Il verbale è vuoto"),
    ("   ", True, "Il verbale è vuoto"),
    ("Testo", False, "non registra alcun presente"),
])
def test_empty_minutes_are_not_approved(client, held, create_minutes, create_seat, table, facilitator, approve,
                                        text, with_attendance, message):
    seats = [create_seat(table)] if with_attendance else []
    minutes = create_minutes(held, text=text, seats=seats)

    response = approve(minutes, facilitator)

    assert response.status_code == 409
    assert message in page_text(response)
    db.session.refresh(minutes)
    assert (minutes.status, minutes.content_hash) == ("draft", None)
    assert db.session.execute(select(AuditEvent).where(AuditEvent.action == "minutes.approve")).first() is None


def test_approval_needs_the_confirmation(client, staged, facilitator):
    client.login(facilitator)

    response = client.post(f"/facilitazione/verbali/{staged['minutes'].id}/approva", data={})

    assert response.status_code == 400
    assert "Per approvare spunta la conferma." in page_text(response)
    db.session.refresh(staged["minutes"])
    assert staged["minutes"].status == "draft"


def overturning_is_possible() -> bool:
    """Whether the proposal lifecycle has the moves a verbale needs to overturn an answer (issue 4 adds them)."""
    from consulta.proposals.models import PROPOSAL_TRANSITIONS

    return PROPOSAL_TRANSITIONS.find("approved", "rejected") is not None


def test_a_decision_that_overturns_an_answer_applies_it_or_refuses_the_whole_approval(
        client, table, held, create_minutes, create_seat, create_proposal, citizen, facilitator, approve):
    already = create_proposal(table, citizen, title="Già accolta", state="approved", facilitator=facilitator)
    fresh = create_proposal(table, citizen, title="Nuova")
    minutes = create_minutes(held, seats=[create_seat(table)], decisions=[(fresh, "approved"), (already, "rejected")])

    response = approve(minutes, facilitator)

    db.session.expire_all()
    minutes = db.session.get(Minutes, minutes.id)
    fresh = db.session.get(type(fresh), fresh.id)
    already = db.session.get(type(already), already.id)
    if overturning_is_possible():
        assert response.status_code == 302
        assert (minutes.status, fresh.state, already.state) == ("approved", "approved", "rejected")
        assert already.answer == "Motivazione per Già accolta."
    else:
        assert response.status_code == 409
        html = page_text(response)
        assert "«Già accolta» ha già la risposta «accolta»" in html and "approved → rejected" in html
        assert (minutes.status, fresh.state, already.state) == ("draft", "published", "approved")


def test_a_decision_confirms_an_answer_given_before(client, table, held, create_minutes, create_seat,
                                                   create_proposal, citizen, facilitator, approve):
    already = create_proposal(table, citizen, title="Già accolta", state="approved", facilitator=facilitator,
                              answer="Risposta del facilitatore.")
    minutes = create_minutes(held, seats=[create_seat(table)], decisions=[(already, "approved")])

    assert approve(minutes, facilitator).status_code == 302

    db.session.refresh(already)
    assert already.state == "approved" and already.answer == "Risposta del facilitatore."
    confirmed = db.session.execute(select(AuditEvent).where(AuditEvent.action == "minutes.decision_confirmed")
                                   ).scalar_one()
    assert (confirmed.subject_type, confirmed.subject_id) == ("proposal", already.id)


def test_a_withdrawn_proposal_cannot_be_decided(client, table, held, create_minutes, create_seat, create_proposal,
                                                citizen, facilitator, approve):
    fresh = create_proposal(table, citizen, title="Nuova")
    gone = create_proposal(table, citizen, title="Ritirata", state="withdrawn")
    minutes = create_minutes(held, seats=[create_seat(table)], decisions=[(fresh, "approved"), (gone, "approved")])
    before = last_audit_id()

    response = approve(minutes, facilitator)

    assert response.status_code == 409
    assert "«Ritirata» è «ritirata»" in page_text(response)
    db.session.expire_all()
    assert db.session.get(Minutes, minutes.id).status == "draft"
    assert db.session.get(type(fresh), fresh.id).state == "published"
    assert db.session.execute(select(AuditEvent).where(AuditEvent.subject_type == "proposal",
                                                       AuditEvent.subject_id == fresh.id,
                                                       AuditEvent.id > before)).first() is None


# ------------------------------------------------------------------------------ immutability

EDIT_ROUTES = [
    ("get", "testo", None),
    ("post", "testo", {"text": "Nuovo testo", "save": "1"}),
    ("get", "presenze", None),
    ("post", "presenze", {}),
    ("post", "presenze/partecipanti", {"email": "segue@example.org"}),
    ("post", "presenze/esterni", {"name": "Anna", "role": "Ospite"}),
    ("post", "presenze/{attendance}/elimina", {}),
    ("get", "decisioni/nuova", None),
    ("post", "decisioni/nuova", {"subject": "p:{rinvio}", "outcome": "approved", "method": "consensus",
                                 "motivation": "x"}),
    ("get", "decisioni/{decision}/modifica", None),
    ("post", "decisioni/{decision}/modifica", {"subject": "p:{centro}", "outcome": "rejected",
                                               "method": "consensus", "motivation": "Cambiata"}),
    ("post", "decisioni/{decision}/elimina", {}),
    ("post", "approva", {"confirm": "y"}),
    ("post", "elimina", {}),
]


@pytest.mark.parametrize("who", ["facilitator", "admin"])
def test_approved_minutes_refuse_every_edit_route(client, staged, facilitator, admin_user, approve, subtests, who):
    """Every route refuses and changes nothing, so they all try the same sealed minutes in turn."""
    minutes = staged["minutes"]
    approve(minutes, facilitator)
    db.session.refresh(minutes)
    before = content_hash(minutes)
    ids = {"attendance": minutes.attendance[0].id, "decision": minutes.decisions[0].id,
           "rinvio": staged["rinvio"].id, "centro": staged["centro"].id}
    client.login(facilitator if who == "facilitator" else admin_user)
    for method, part, data in EDIT_ROUTES:
        with subtests.test(route=f"{method} {part}"):
            url = f"/facilitazione/verbali/{minutes.id}/" + part.format(**ids)
            payload = {k: v.format(**ids) for k, v in data.items()} if data is not None else None

            response = getattr(client, method)(url, **({"data": payload} if payload is not None else {}))

            assert response.status_code == 409
            assert "Il verbale è approvato e non si può più modificare" in page_text(response)
            db.session.expire_all()
            sealed = db.session.get(Minutes, minutes.id)
            assert sealed.status == "approved" and content_hash(sealed) == before == sealed.content_hash


def test_the_editor_of_approved_minutes_leads_to_the_public_page(client, staged, facilitator, approve):
    approve(staged["minutes"], facilitator)
    client.login(facilitator)

    response = client.get(f"/facilitazione/verbali/{staged['minutes'].id}/")

    assert response.status_code == 302 and response.headers["Location"] == f"/verbali/{staged['minutes'].id}/"


ORM_CHANGES = ["text", "delete", "add_attendance", "edit_attendance", "edit_decision", "delete_decision",
               "edit_dissent", "delete_dissent"]


def test_the_orm_refuses_changes_to_approved_minutes(staged, facilitator, approve, subtests):
    """Each refused change is rolled back, so they all try the same sealed minutes in turn."""
    approve(staged["minutes"], facilitator)
    for change in ORM_CHANGES:
        with subtests.test(change=change):
            _try_orm_change(staged["minutes"].id, change)


def _try_orm_change(minutes_id, change):
    try:
        minutes = db.session.get(Minutes, minutes_id)
        if change == "text":
            minutes.text = "Riscritto"
        elif change == "delete":
            db.session.delete(minutes)
        elif change == "add_attendance":
            minutes.attendance.append(Attendance(kind="external", name="Intruso", category="external"))
        elif change == "edit_attendance":
            minutes.attendance[0].name = "Altro nome"
        elif change == "edit_decision":
            minutes.decisions[0].motivation = "Cambiata"
        elif change == "delete_decision":
            db.session.delete(minutes.decisions[0])
        elif change == "edit_dissent":
            minutes.decisions[1].dissents[0].text = "Cambiato"
        else:
            db.session.delete(minutes.decisions[1].dissents[0])

        with pytest.raises(ImmutableMinutes):
            db.session.flush()
    finally:
        db.session.rollback()


TAMPERING = {
    "update minutes": "UPDATE minutes SET text = 'Riscritto' WHERE id = :minutes",
    "unapprove minutes": "UPDATE minutes SET status = 'draft', content_hash = NULL WHERE id = :minutes",
    "delete minutes": "DELETE FROM minutes WHERE id = :minutes",
    "update attendance": "UPDATE minutes_attendance SET name = 'Altro' WHERE minutes_id = :minutes",
    "delete attendance": "DELETE FROM minutes_attendance WHERE minutes_id = :minutes",
    "insert attendance": ("INSERT INTO minutes_attendance (minutes_id, kind, category, name) "
                          "VALUES (:minutes, 'external', 'external', 'Intruso')"),
    "update decision": "UPDATE minutes_decision SET motivation = 'Cambiata' WHERE minutes_id = :minutes",
    "delete decision": "DELETE FROM minutes_decision WHERE minutes_id = :minutes",
    # NULL becomes an objective not yet decided in these minutes.
    "insert decision": ("INSERT INTO minutes_decision (minutes_id, objective_id, subject_title, outcome, method, "
                        "motivation, motivation_html) VALUES (:minutes, NULL, 'x', 'approved', 'consensus', 'x', '')"),
    "update dissent": "UPDATE minutes_dissent SET text = 'Cambiato'",
    "delete dissent": "DELETE FROM minutes_dissent",
}


def test_the_database_refuses_to_change_approved_minutes(staged, facilitator, approve, subtests):
    """Each refused statement rolls its block back, so they all try the same sealed minutes in turn."""
    approve(staged["minutes"], facilitator)
    minutes_id, objective_id = staged["minutes"].id, staged["domicilio"].id
    db.session.remove()
    for statement, sql in TAMPERING.items():
        with subtests.test(statement=statement):
            with pytest.raises((IntegrityError, sa.exc.DBAPIError)) as refused, sql_connection() as conn:
                conn.execute(sa.text(sql.replace("NULL", str(objective_id))), {"minutes": minutes_id})

            assert "approved minutes are immutable" in str(refused.value)
            minutes = db.session.get(Minutes, minutes_id)
            assert minutes.status == "approved" and content_hash(minutes) == minutes.content_hash
            db.session.remove()


def test_the_database_still_lets_a_deleted_account_fade_from_the_links(staged, facilitator, approve):
    """Links to people are not the record (the names are): clearing them keeps the hash valid."""
    approve(staged["minutes"], facilitator)
    minutes_id = staged["minutes"].id
    db.session.remove()

    with sql_connection() as conn:
        conn.execute(sa.text("UPDATE minutes_attendance SET user_id = NULL WHERE minutes_id = :m"), {"m": minutes_id})
        conn.execute(sa.text("UPDATE minutes SET approved_by_id = NULL WHERE id = :m"), {"m": minutes_id})

    minutes = db.session.get(Minutes, minutes_id)
    assert content_hash(minutes) == minutes.content_hash


def test_draft_minutes_stay_editable_in_the_database(staged):
    minutes_id = staged["minutes"].id
    db.session.remove()
    with sql_connection() as conn:
        conn.execute(sa.text("UPDATE minutes_decision SET motivation = 'Rivista' WHERE minutes_id = :m"),
                     {"m": minutes_id})
        conn.execute(sa.text("DELETE FROM minutes_dissent"))
    assert db.session.execute(select(Decision.motivation).where(Decision.minutes_id == minutes_id)
                              ).scalars().all()[0] == "Rivista"


# ------------------------------------------------------------------------------ rettifica

def test_a_draft_cannot_be_rectified(client, staged, facilitator):
    client.login(facilitator)

    response = client.post(f"/facilitazione/verbali/{staged['minutes'].id}/rettifica")

    assert response.status_code == 409
    assert "Si può rettificare solo un verbale approvato" in page_text(response)
    assert len(db.session.execute(select(Minutes)).scalars().all()) == 1


def test_a_rettifica_corrects_approved_minutes_and_its_decisions_prevail(client, staged, facilitator, approve):
    original = staged["minutes"]
    approve(original, facilitator)
    client.login(facilitator)

    response = client.post(f"/facilitazione/verbali/{original.id}/rettifica")

    assert response.status_code == 302
    correction = db.session.execute(select(Minutes).where(Minutes.corrects_id == original.id)).scalar_one()
    assert response.headers["Location"] == f"/facilitazione/verbali/{correction.id}/"
    assert correction.status == "draft" and correction.text == original.text
    assert len(correction.attendance) == 2 and len(correction.decisions) == 5
    assert client.post(f"/facilitazione/verbali/{original.id}/rettifica").status_code == 409

    # The deferred proposal is now approved in the rettifica.
    deferred = next(d for d in correction.decisions if d.proposal_id == staged["rinvio"].id)
    edited = client.post(f"/facilitazione/verbali/{correction.id}/decisioni/{deferred.id}/modifica",
                         data={"subject": f"p:{staged['rinvio'].id}", "outcome": "approved", "method": "vote",
                               "votes_for": "2", "votes_against": "0", "votes_abstained": "0",
                               "motivation": "Accolta nella rettifica."})
    assert edited.status_code == 302
    client.logout()
    assert approve(correction, facilitator).status_code == 302

    db.session.expire_all()
    rinvio = db.session.get(type(staged["rinvio"]), staged["rinvio"].id)
    assert rinvio.state == "approved" and rinvio.answer == "Accolta nella rettifica."
    original_page = page_text(client.get(f"/verbali/{original.id}/"))
    assert "Verbale rettificato" in original_page and f'href="/verbali/{correction.id}/"' in original_page
    correction_page = page_text(client.get(f"/verbali/{correction.id}/"))
    assert f"Questo verbale rettifica il verbale n. {original.id}" in correction_page
    assert f'href="/verbali/{original.id}/"' in correction_page
    from consulta.meetings.queries import decision_for

    assert decision_for(rinvio).minutes_id == correction.id
    original = db.session.get(Minutes, original.id)
    assert original.status == "approved" and content_hash(original) == original.content_hash


def test_a_rettifica_reverses_an_answer_when_the_lifecycle_allows_it(client, staged, facilitator, approve):
    original = staged["minutes"]
    approve(original, facilitator)
    client.login(facilitator)
    client.post(f"/facilitazione/verbali/{original.id}/rettifica")
    correction = db.session.execute(select(Minutes).where(Minutes.corrects_id == original.id)).scalar_one()
    centro = next(d for d in correction.decisions if d.proposal_id == staged["centro"].id)
    client.post(f"/facilitazione/verbali/{correction.id}/decisioni/{centro.id}/modifica",
                data={"subject": f"p:{staged['centro'].id}", "outcome": "rejected", "method": "consensus",
                      "motivation": "Ripensata."})
    client.logout()

    response = approve(correction, facilitator)

    db.session.expire_all()
    proposal = db.session.get(type(staged["centro"]), staged["centro"].id)
    if overturning_is_possible():
        assert response.status_code == 302
        assert db.session.get(Minutes, correction.id).status == "approved"
        assert (proposal.state, proposal.answer) == ("rejected", "Ripensata.")
        from consulta.meetings.queries import decision_for

        assert decision_for(proposal).minutes_id == correction.id
    else:
        assert response.status_code == 409
        assert "approved → rejected" in page_text(response)
        assert db.session.get(Minutes, correction.id).status == "draft"
        assert proposal.state == "approved"
    original = db.session.get(Minutes, original.id)
    assert original.status == "approved" and content_hash(original) == original.content_hash


def test_the_reason_a_decision_gives_is_said_in_the_readers_language(client, table, facilitator, create_user,
                                                                       create_proposal, approve_decisions):
    """Stored as a reference to the minutes, not as Italian text: an English reader reads English."""
    proposal = create_proposal(table, create_user(email="autrice@example.org"), title="Trasporto sociale")
    minutes = approve_decisions(table, [(proposal, "approved")], by=facilitator).minutes
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "minutes.decision")).scalar_one()
    assert event.reason is None and event.reason_key == f"minutes.decision:{minutes.id}"

    italian = client.get(f"/tavoli/{table.slug}/registro-moderazione").get_data(as_text=True)
    client.get("/lingua/en")
    english = client.get(f"/tavoli/{table.slug}/registro-moderazione").get_data(as_text=True)
    assert f"Decisione del verbale n. {minutes.id}" in italian
    assert f"Decision in minutes no. {minutes.id}" in english and "Decisione del verbale" not in english
