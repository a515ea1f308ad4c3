"""Minutes sanity (issue 11, item 8): the votes recorded in a decision cannot exceed the member
organisations present, and an outcome the counts contradict needs an explicit confirmation with
its reason, which is stored and shown with the decision in the minutes."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from consulta.extensions import db
from consulta.meetings.models import Decision
from tests.meetings.helpers import page_text


@pytest.fixture
def staged(table, create_meeting, create_minutes, create_seat, create_proposal, citizen):
    """Draft minutes of a held meeting where two member organisations are present."""
    held = create_meeting(table, starts_in=timedelta(hours=-3))
    seats = [create_seat(table, name="Auser Narni"), create_seat(table, name="CGIL Terni", type="union")]
    proposal = create_proposal(table, citizen, title="Centro diurno a Narni")
    minutes = create_minutes(held, seats=seats)
    assert minutes.members_present == 2
    return minutes, proposal


def _odt_content(data: bytes) -> bytes:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as odt:
        return odt.read("content.xml")


def post_decision(client, minutes, proposal, **fields):
    data = {"subject": f"p:{proposal.id}", "outcome": "approved", "method": "vote", "votes_for": "2",
            "votes_against": "0", "votes_abstained": "0", "motivation": "Il tavolo vota il centro diurno."}
    data.update(fields)
    return client.post(f"/facilitazione/verbali/{minutes.id}/decisioni/nuova", data=data)


def words(response) -> str:
    """The page as read: tags removed, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", page_text(response)).split())


def decisions():
    return db.session.execute(select(Decision)).scalars().all()


def field_value(html: str, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html) or re.search(
        rf'<input[^>]*value="([^"]*)"[^>]*name="{name}"', html)
    return match.group(1) if match else None


@pytest.mark.parametrize(("counts", "message"), [
    ({"votes_for": "3", "votes_against": "0", "votes_abstained": "0"},
     "Favorevoli, contrari e astenuti sono 3, ma i membri presenti con diritto di voto sono 2."),
    ({"votes_for": "1", "votes_against": "1", "votes_abstained": "1"},
     "Favorevoli, contrari e astenuti sono 3, ma i membri presenti con diritto di voto sono 2."),
])
def test_more_votes_than_members_present_are_refused(client, facilitator, staged, counts, message):
    minutes, proposal = staged
    client.login(facilitator)

    response = post_decision(client, minutes, proposal, **counts)

    assert response.status_code == 400
    html = page_text(response)
    assert message in html
    # Nothing typed is lost: the counts and the motivation come back in the form.
    assert field_value(html, "votes_for") == counts["votes_for"]
    assert "Il tavolo vota il centro diurno." in html
    assert decisions() == []


@pytest.mark.parametrize(("outcome", "yes", "no"), [
    ("approved", "1", "1"),
    ("approved", "0", "0"),
    ("approved", "0", "2"),
    ("partially_approved", "0", "1"),
    ("rejected", "2", "0"),
])
def test_an_outcome_the_counts_contradict_needs_a_confirmation(client, facilitator, staged, outcome, yes, no):
    minutes, proposal = staged
    client.login(facilitator)

    refused = post_decision(client, minutes, proposal, outcome=outcome, votes_for=yes, votes_against=no)

    assert refused.status_code == 400
    html = page_text(refused)
    assert f"L'esito scelto non corrisponde ai voti ({yes} favorevoli, {no} contrari)" in html
    assert "spunta la conferma e spiega il motivo" in html
    assert "Il tavolo vota il centro diurno." in html and field_value(html, "votes_against") == no
    assert decisions() == []

    # Confirmed without a reason: still refused, on the reason field.
    no_reason = post_decision(client, minutes, proposal, outcome=outcome, votes_for=yes, votes_against=no,
                              confirm_outcome="y", outcome_note="  ")
    assert no_reason.status_code == 400
    assert "Spiega perché l'esito non corrisponde ai voti." in page_text(no_reason)
    assert decisions() == []

    confirmed = post_decision(client, minutes, proposal, outcome=outcome, votes_for=yes, votes_against=no,
                              confirm_outcome="y", outcome_note="Il regolamento chiede i due terzi dei presenti.")
    assert confirmed.status_code == 302
    [decision] = decisions()
    assert (decision.outcome, decision.votes_for, decision.votes_against) == (outcome, int(yes), int(no))
    assert decision.outcome_note == "Il regolamento chiede i due terzi dei presenti."


@pytest.mark.parametrize(("outcome", "yes", "no", "abstained"), [
    ("approved", "2", "0", "0"),
    ("approved", "1", "0", "1"),
    ("partially_approved", "1", "1", "0"),
    ("rejected", "0", "2", "0"),
    ("rejected", "1", "1", "0"),
    ("deferred", "2", "0", "0"),
])
def test_counts_that_fit_need_no_confirmation(client, facilitator, staged, outcome, yes, no, abstained):
    minutes, proposal = staged
    client.login(facilitator)

    response = post_decision(client, minutes, proposal, outcome=outcome, votes_for=yes, votes_against=no,
                             votes_abstained=abstained, outcome_note="ignorata")

    assert response.status_code == 302
    [decision] = decisions()
    assert decision.outcome == outcome and decision.outcome_note is None


def test_the_confirmed_reason_is_shown_with_the_decision_in_the_minutes(client, facilitator, staged, approve):
    minutes, proposal = staged
    client.login(facilitator)
    assert post_decision(client, minutes, proposal, votes_for="1", votes_against="1", confirm_outcome="y",
                         outcome_note="Voto decisivo del presidente.").status_code == 302
    editor = words(client.get(f"/facilitazione/verbali/{minutes.id}/"))
    assert "Esito confermato nonostante i voti: Voto decisivo del presidente." in editor
    [decision] = decisions()
    edit_form = page_text(client.get(f"/facilitazione/verbali/{minutes.id}/decisioni/{decision.id}/modifica"))
    assert "Voto decisivo del presidente." in edit_form
    assert re.search(r'<input[^>]*checked[^>]*name="confirm_outcome"|<input[^>]*name="confirm_outcome"[^>]*checked',
                     edit_form)
    client.logout()

    assert approve(minutes, facilitator).status_code == 302
    public = words(client.get(f"/verbali/{minutes.id}/"))
    assert "Esito confermato nonostante i voti: Voto decisivo del presidente." in public
    odt = client.get(f"/verbali/{minutes.id}.odt")
    assert odt.status_code == 200 and b"Voto decisivo del presidente." in _odt_content(odt.data)

    # A rettifica starts from the approved record, reason included.
    client.login(facilitator)
    assert client.post(f"/facilitazione/verbali/{minutes.id}/rettifica").status_code == 302
    copies = [d for d in decisions() if d.minutes_id != minutes.id]
    assert [d.outcome_note for d in copies] == ["Voto decisivo del presidente."]


def test_approval_is_refused_when_attendance_shrank_below_the_votes(client, facilitator, staged, approve):
    """Votes recorded while two members were present; one is then removed from the attendance."""
    minutes, proposal = staged
    client.login(facilitator)
    assert post_decision(client, minutes, proposal).status_code == 302
    member = next(a for a in minutes.attendance if a.kind == "member")
    client.post(f"/facilitazione/verbali/{minutes.id}/presenze/{member.id}/elimina")
    client.logout()

    response = approve(minutes, facilitator)

    assert response.status_code == 409
    assert "registra più voti dei membri presenti con diritto di voto (1)" in page_text(response)
    db.session.refresh(minutes)
    assert minutes.status == "draft"


def test_the_operation_refuses_too(app, facilitator, staged):
    """The rule lives in the operation as well as in the form: no other caller can skip it."""
    from consulta.core.states import TransitionError
    from consulta.meetings import operations as ops

    minutes, proposal = staged
    fields = ops.DecisionFields(proposal=proposal, objective=None, outcome="approved", method="vote", votes_for=5,
                                votes_against=0, votes_abstained=0, motivation="x", dissents={})
    with pytest.raises(TransitionError, match="membri presenti"):
        ops.save_decision(minutes, facilitator, fields, organisations={})
    contradicted = ops.DecisionFields(proposal=proposal, objective=None, outcome="rejected", method="vote",
                                      votes_for=2, votes_against=0, votes_abstained=0, motivation="x", dissents={})
    with pytest.raises(TransitionError, match="non corrisponde ai voti"):
        ops.save_decision(minutes, facilitator, contradicted, organisations={})
