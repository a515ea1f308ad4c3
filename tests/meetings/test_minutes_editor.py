"""The facilitator writes the minutes of a held meeting: attendance and quorum, text with
preview, decisions with dissents. Drafts stay among facilitators and admins."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from consulta.extensions import db
from consulta.meetings.models import Attendance, Decision, Dissent, Meeting, Minutes
from tests.meetings.helpers import page_text


def editor_url(minutes, part=""):
    return f"/facilitazione/verbali/{minutes.id}/{part}"


def all_minutes():
    return db.session.execute(select(Minutes).order_by(Minutes.id)).scalars().all()


@pytest.fixture
def held(table, create_meeting):
    return create_meeting(table, starts_in=timedelta(hours=-3))


def test_starting_the_minutes_of_a_meeting_that_took_place(client, table, facilitator, held):
    client.login(facilitator)

    response = client.post(f"/facilitazione/tavoli/{table.slug}/verbali/nuovo", data={"meeting_id": held.id})

    assert response.status_code == 302
    [minutes] = all_minutes()
    assert response.headers["Location"] == f"/facilitazione/verbali/{minutes.id}/"
    db.session.refresh(held)
    assert held.status == "held"
    assert minutes.status == "draft" and minutes.agenda_items == "Apertura\nProposte sugli anziani"
    assert minutes.quorum_required == 2 and minutes.quorum_reached is False
    editor = page_text(client.get(response.headers["Location"]))
    assert "Bozza visibile solo ai facilitatori" in editor and "Quorum non raggiunto" in editor


def test_minutes_for_a_meeting_of_another_tavolo_are_refused(client, table, other_table, create_meeting, admin_user):
    foreign = create_meeting(other_table, starts_in=timedelta(hours=-3))
    client.login(admin_user)  # an admin facilitates both tavoli, so only the mismatch can refuse

    response = client.post(f"/facilitazione/tavoli/{table.slug}/verbali/nuovo", data={"meeting_id": foreign.id})

    assert response.status_code == 400
    assert "L'incontro scelto non appartiene a questo tavolo" in page_text(response)
    assert all_minutes() == []
    db.session.refresh(foreign)
    assert foreign.status == "scheduled"


@pytest.mark.parametrize(("starts_in", "status", "code", "message"), [
    (timedelta(days=2), "scheduled", 409, "L'incontro non si è ancora svolto"),
    (timedelta(hours=-2), "cancelled", 409, "L'incontro è stato annullato"),
])
def test_no_minutes_before_the_meeting_or_for_a_cancelled_one(client, table, facilitator, create_meeting,
                                                             starts_in, status, code, message):
    meeting = create_meeting(table, starts_in=starts_in, status=status)
    client.login(facilitator)

    response = client.post(f"/facilitazione/tavoli/{table.slug}/verbali/nuovo", data={"meeting_id": meeting.id})

    assert response.status_code == code
    assert message in page_text(response)
    assert all_minutes() == []


def test_a_meeting_has_one_original_minutes(client, table, facilitator, held, create_minutes):
    create_minutes(held)
    client.login(facilitator)

    response = client.post(f"/facilitazione/tavoli/{table.slug}/verbali/nuovo", data={"meeting_id": held.id})

    assert response.status_code == 409
    assert "ha già un verbale" in page_text(response)
    assert len(all_minutes()) == 1


def test_attendance_members_participants_externals_and_the_quorum(client, table, facilitator, held, create_minutes,
                                                                  create_seat, citizen):
    auser = create_seat(table, name="Auser Narni", with_substitute=True)
    cgil = create_seat(table, name="CGIL Terni", type="union")
    absent = create_seat(table, name="Caritas", type="third_sector_other")
    minutes = create_minutes(held)
    client.login(facilitator)

    page = page_text(client.get(editor_url(minutes, "presenze")))
    assert "Presente il sostituto: Sostituto 1" in page and "Caritas" in page

    response = client.post(editor_url(minutes, "presenze"), data={
        f"member_{auser.member.id}": "substitute", f"member_{cgil.member.id}": "delegate",
        f"member_{absent.member.id}": "absent"})
    assert response.status_code == 302
    db.session.refresh(minutes)
    assert (minutes.members_present, minutes.quorum_required, minutes.quorum_reached) == (2, 2, True)
    rows = {a.organisation_name: a for a in minutes.attendance}
    assert rows["Auser Narni"].attended_as == "substitute" and rows["Auser Narni"].name == "Sostituto 1"
    assert rows["CGIL Terni"].category == "union"

    assert client.post(editor_url(minutes, "presenze/partecipanti"), data={"email": "CARLA@example.org"}
                       ).status_code == 302
    twice = client.post(editor_url(minutes, "presenze/partecipanti"), data={"email": citizen.email})
    assert twice.status_code == 400 and "è già tra i presenti" in page_text(twice)
    unknown = client.post(editor_url(minutes, "presenze/partecipanti"), data={"email": "nessuno@example.org"})
    assert unknown.status_code == 400 and "Nessuna persona registrata" in page_text(unknown)
    assert client.post(editor_url(minutes, "presenze/esterni"),
                       data={"name": "Anna Bianchi", "role": "Assistente sociale, Comune di Amelia"}).status_code == 302
    no_role = client.post(editor_url(minutes, "presenze/esterni"), data={"name": "Senza Ruolo", "role": ""})
    assert no_role.status_code == 400 and "Questo campo è obbligatorio." in page_text(no_role)

    editor = page_text(client.get(editor_url(minutes)))
    assert "Quorum raggiunto" in editor and "Presenti 2 organizzazioni aderenti su 2 richieste." in editor
    for text in ("Organizzazione sindacale", "Cittadino/a", "Invitati esterni", "Anna Bianchi", "Carla Cittadina"):
        assert text in editor

    # Back to one member present: the quorum is lost again.
    client.post(editor_url(minutes, "presenze"), data={
        f"member_{auser.member.id}": "absent", f"member_{cgil.member.id}": "delegate",
        f"member_{absent.member.id}": "absent"})
    db.session.refresh(minutes)
    assert (minutes.members_present, minutes.quorum_reached) == (1, False)
    assert len(minutes.attendance) == 3


def test_attendance_of_an_organisation_that_is_not_a_member_is_refused(client, table, other_table, facilitator, held,
                                                                       create_minutes, create_seat):
    foreign = create_seat(other_table, name="Altro tavolo")
    minutes = create_minutes(held, text="")
    client.login(facilitator)

    response = client.post(editor_url(minutes, "presenze"), data={f"member_{foreign.member.id}": "delegate"})

    assert response.status_code == 400
    assert "non è aderente a questo tavolo" in page_text(response)
    assert db.session.execute(select(Attendance)).scalars().all() == []


def test_text_preview_does_not_save_and_save_does(client, facilitator, held, create_minutes):
    minutes = create_minutes(held, text="")
    client.login(facilitator)
    data = {"agenda_items": "Apertura\nVarie", "text": "Il tavolo discute **la domiciliarità**."}

    preview = client.post(editor_url(minutes, "testo"), data={**data, "preview": "1"})

    assert preview.status_code == 200
    html = page_text(preview)
    assert "Anteprima (non ancora salvata)" in html and "<strong>la domiciliarità</strong>" in html
    db.session.refresh(minutes)
    assert minutes.text == ""

    saved = client.post(editor_url(minutes, "testo"), data={**data, "save": "1"})
    assert saved.status_code == 302
    db.session.refresh(minutes)
    assert minutes.text == "Il tavolo discute **la domiciliarità**."
    assert minutes.text_html == "<p>Il tavolo discute <strong>la domiciliarità</strong>.</p>"

    too_long = client.post(editor_url(minutes, "testo"), data={"text": "x" * 100_001, "save": "1"})
    assert too_long.status_code == 400 and "Al massimo 100000 caratteri." in page_text(too_long)


def test_the_text_is_sanitised(client, facilitator, held, create_minutes):
    minutes = create_minutes(held, text="")
    client.login(facilitator)

    client.post(editor_url(minutes, "testo"),
                data={"text": "<script>alert(1)</script> [x](javascript:alert(1)) ok", "save": "1"})

    db.session.refresh(minutes)
    assert "<script" not in minutes.text_html and 'href="javascript' not in minutes.text_html
    assert "&lt;script&gt;" in minutes.text_html


@pytest.fixture
def decided_setup(table, facilitator, held, create_minutes, create_seat, create_proposal, create_objective, citizen):
    auser = create_seat(table, name="Auser Narni")
    cgil = create_seat(table, name="CGIL Terni", type="union")
    first = create_proposal(table, citizen, title="Centro diurno a Narni")
    second = create_proposal(table, citizen, title="Trasporto sociale")
    objective = create_objective(table, title="Domiciliarità")
    minutes = create_minutes(held, seats=[auser, cgil])
    return minutes, first, second, objective, auser, cgil


def decision_data(item, **overrides):
    key = f"{'p' if item.__tablename__ == 'proposal' else 'o'}:{item.id}"
    data = {"subject": key, "outcome": "approved", "method": "consensus", "motivation": "Il tavolo concorda."}
    data.update(overrides)
    return data


def test_a_decision_with_votes_and_a_dissent(client, facilitator, decided_setup):
    minutes, first, _second, _objective, auser, cgil = decided_setup
    client.login(facilitator)

    form = page_text(client.get(editor_url(minutes, "decisioni/nuova")))
    assert "Centro diurno a Narni" in form and "Domiciliarità" in form and "CGIL Terni" in form

    response = client.post(editor_url(minutes, "decisioni/nuova"), data=decision_data(
        first, outcome="partially_approved", method="vote", votes_for="1", votes_against="1", votes_abstained="0",
        motivation="Accolta per la parte sul **centro diurno**.",
        **{f"dissent_{cgil.organisation.id}": "Chiediamo un centro in ogni comune."}))

    assert response.status_code == 302
    [decision] = db.session.execute(select(Decision)).scalars().all()
    assert (decision.proposal_id, decision.outcome, decision.method) == (first.id, "partially_approved", "vote")
    assert (decision.votes_for, decision.votes_against, decision.votes_abstained) == (1, 1, 0)
    assert decision.subject_title == "Centro diurno a Narni"
    [dissent] = decision.dissents
    assert (dissent.organisation_name, dissent.text) == ("CGIL Terni", "Chiediamo un centro in ogni comune.")
    db.session.refresh(first)
    assert first.state == "published"  # nothing is applied before approval

    # Editing keeps one row and can drop the dissent.
    edited = client.post(editor_url(minutes, f"decisioni/{decision.id}/modifica"),
                         data=decision_data(first, motivation="Accolta.", **{f"dissent_{cgil.organisation.id}": ""}))
    assert edited.status_code == 302
    db.session.refresh(decision)
    assert decision.method == "consensus" and decision.votes_for is None and decision.dissents == []
    assert db.session.execute(select(Dissent)).scalars().all() == []


@pytest.mark.parametrize(("overrides", "message"), [
    ({"motivation": ""}, "La motivazione è obbligatoria."),
    ({"motivation": "x" * 10_001}, "Al massimo 10000 caratteri."),
    ({"outcome": "maybe"}, "Scegli una delle opzioni proposte."),
    ({"method": "vote"}, "Con la votazione indica il numero di voti (anche 0)."),
    ({"method": "vote", "votes_for": "-1", "votes_against": "0", "votes_abstained": "0"},
     "Il numero di voti non può essere negativo."),
    ({"method": "vote", "votes_for": "tre", "votes_against": "0", "votes_abstained": "0"}, "Inserisci un numero intero."),
    ({"votes_for": "3"}, "Per una decisione per consenso non si indicano voti."),
    ({"subject": "p:999999"}, "non è di questo tavolo o non si può decidere"),
    ({"subject": ""}, "Scegli la proposta o l'obiettivo su cui il tavolo ha deciso."),
])
def test_bad_decisions_are_refused(client, facilitator, decided_setup, overrides, message):
    minutes, first, *_ = decided_setup
    client.login(facilitator)

    response = client.post(editor_url(minutes, "decisioni/nuova"), data=decision_data(first, **overrides))

    assert response.status_code == 400
    assert message in page_text(response)
    assert db.session.execute(select(Decision)).scalars().all() == []


def test_a_decision_on_another_tavolos_proposal_is_refused(client, facilitator, other_table, decided_setup,
                                                           create_proposal, citizen):
    minutes = decided_setup[0]
    foreign = create_proposal(other_table, citizen, title="Proposta di un altro tavolo")
    client.login(facilitator)

    response = client.post(editor_url(minutes, "decisioni/nuova"), data=decision_data(foreign))

    assert response.status_code == 400
    assert "non è di questo tavolo" in page_text(response)
    assert db.session.execute(select(Decision)).scalars().all() == []


def test_two_decisions_on_the_same_subject_are_refused(client, facilitator, decided_setup):
    minutes, first, *_ = decided_setup
    client.login(facilitator)
    assert client.post(editor_url(minutes, "decisioni/nuova"), data=decision_data(first)).status_code == 302

    again = client.post(editor_url(minutes, "decisioni/nuova"), data=decision_data(first, outcome="rejected"))

    assert again.status_code == 400
    assert "contiene già una decisione su questo argomento" in page_text(again)
    [decision] = db.session.execute(select(Decision)).scalars().all()
    assert decision.outcome == "approved"


def test_the_database_refuses_two_decisions_on_the_same_subject_too(decided_setup):
    minutes, first, *_ = decided_setup
    from sqlalchemy.exc import IntegrityError

    for _ in range(2):
        db.session.add(Decision(minutes_id=minutes.id, proposal_id=first.id, subject_title=first.title,
                                outcome="approved", method="consensus", motivation="x"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_an_objective_is_not_partially_approved(client, facilitator, decided_setup):
    minutes, _first, _second, objective, *_ = decided_setup
    client.login(facilitator)

    response = client.post(editor_url(minutes, "decisioni/nuova"),
                           data=decision_data(objective, outcome="partially_approved"))

    assert response.status_code == 400
    assert "non può essere accolto in parte" in page_text(response)


def test_drafts_are_hidden_from_everyone_but_facilitators_and_admins(client, table, held, create_minutes, citizen,
                                                                     other_facilitator, facilitator, admin_user):
    minutes = create_minutes(held)

    assert client.get(f"/verbali/{minutes.id}/").status_code == 404
    assert client.get(f"/verbali/{minutes.id}.pdf").status_code == 404
    assert client.get(f"/verbali/{minutes.id}.odt").status_code == 404
    assert "/accedi" in client.get(editor_url(minutes)).headers["Location"]
    meeting_page = page_text(client.get(f"/incontri/{held.id}/"))
    assert "Bozza del verbale" not in meeting_page

    for user, public, editor in ((citizen, 404, 403), (other_facilitator, 404, 403), (facilitator, 302, 200),
                                 (admin_user, 302, 200)):
        client.login(user)
        assert client.get(f"/verbali/{minutes.id}/").status_code == public
        assert client.get(editor_url(minutes)).status_code == editor
        assert client.get(editor_url(minutes, "testo")).status_code == editor
        client.logout()


EDIT_ROUTES = [
    ("get", "testo", None),
    ("post", "testo", {"text": "Nuovo", "save": "1"}),
    ("get", "presenze", None),
    ("post", "presenze", {}),
    ("post", "presenze/partecipanti", {"email": "carla@example.org"}),
    ("post", "presenze/esterni", {"name": "A", "role": "B"}),
    ("get", "decisioni/nuova", None),
    ("post", "decisioni/nuova", {"subject": "", "outcome": "approved", "method": "consensus", "motivation": "x"}),
    ("post", "approva", {"confirm": "y"}),
    ("post", "elimina", {}),
]


@pytest.mark.parametrize(("method", "part", "data"), EDIT_ROUTES)
def test_non_facilitators_may_not_edit_drafts(client, held, create_minutes, citizen, other_facilitator, method,
                                              part, data):
    minutes = create_minutes(held)
    for user in (citizen, other_facilitator):
        client.login(user)
        response = getattr(client, method)(editor_url(minutes, part), **({"data": data} if data is not None else {}))
        assert response.status_code == 403
        client.logout()
    db.session.refresh(minutes)
    assert (minutes.status, minutes.text) == ("draft", "Si discute delle proposte.")


def test_a_draft_can_be_thrown_away(client, facilitator, held, create_minutes):
    minutes = create_minutes(held)
    client.login(facilitator)

    response = client.post(editor_url(minutes, "elimina"))

    assert response.status_code == 302 and response.headers["Location"] == f"/incontri/{held.id}/"
    assert all_minutes() == []
    assert db.session.get(Meeting, held.id) is not None
