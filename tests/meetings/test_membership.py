"""Organisations join a tavolo as members with a delegate and a substitute; facilitators decide."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from consulta.core.audit import AuditEvent
from consulta.core.notify import Notification
from consulta.extensions import db
from consulta.meetings.models import TavoloMember
from tests.meetings.helpers import page_text


def members_url(tavolo):
    return f"/tavoli/{tavolo.slug}/membri/"


def request_url(tavolo):
    return f"/tavoli/{tavolo.slug}/membri/adesione"


def seats():
    return db.session.execute(select(TavoloMember).order_by(TavoloMember.id)).unique().scalars().all()


@pytest.fixture
def association(create_organisation, create_user):
    org = create_organisation(name="Auser Narni", type="volunteer")
    rita = create_user(email="rita@example.org", display_name="Rita Rappresentante", organisation=org)
    marco = create_user(email="marco@example.org", display_name="Marco Socio", organisation=org,
                        representative=False)
    return org, rita, marco


def test_a_representative_asks_to_join_naming_delegate_and_substitute(client, table, association, facilitator):
    org, rita, marco = association
    client.login(rita)

    form = client.get(request_url(table))
    assert form.status_code == 200
    html = page_text(form)
    assert "Chiedi l'adesione al tavolo" in html and "Marco Socio" in html

    response = client.post(request_url(table), data={"delegate": rita.id, "substitute": str(marco.id)})

    assert response.status_code == 302
    seat = seats()[0]
    assert (seat.organisation_id, seat.delegate_id, seat.substitute_id, seat.status) == (
        org.id, rita.id, marco.id, "requested")
    assert "Richiesta di adesione inviata" in page_text(client.get(response.headers["Location"]))
    assert db.session.execute(select(AuditEvent.action).where(AuditEvent.subject_type == "tavolo_member")
                              ).scalars().all() == ["tavolo_member.request"]
    assert db.session.execute(select(Notification.user_id).where(Notification.event == "tavolo_member.requested")
                              ).scalars().all() == [facilitator.id]


def test_the_facilitator_accepts_and_the_public_sees_members_by_category(
        client, table, association, facilitator, create_seat):
    org, rita, _marco = association
    union = create_seat(table, name="CGIL Terni", type="union", status="accepted")
    client.login(rita)
    client.post(request_url(table), data={"delegate": rita.id, "substitute": ""})
    client.logout()
    seat = seats()[-1]

    client.login(facilitator)
    pending = page_text(client.get(members_url(table)))
    assert "Richieste di adesione da esaminare" in pending and "Auser Narni" in pending
    response = client.post(f"/tavoli/{table.slug}/membri/{seat.id}/accetta")
    assert response.status_code == 302
    client.logout()

    db.session.refresh(seat)
    assert seat.status == "accepted" and seat.decided_by_id == facilitator.id
    assert db.session.execute(select(Notification.user_id).where(Notification.event == "tavolo_member.accepted",
                                                                 Notification.subject_id == seat.id)
                              ).scalars().all() == [rita.id]
    public = page_text(client.get(members_url(table)))
    assert "Organizzazione di volontariato" in public and "Organizzazione sindacale" in public
    assert public.index("Organizzazione sindacale") < public.index("Organizzazione di volontariato")
    assert "Auser Narni" in public and union.organisation.name in public
    assert "Richieste di adesione da esaminare" not in public


def test_rejecting_needs_a_reason_and_a_rejected_organisation_may_ask_again(
        client, table, association, facilitator):
    org, rita, _marco = association
    client.login(rita)
    client.post(request_url(table), data={"delegate": rita.id})
    client.logout()
    seat = seats()[0]

    client.login(facilitator)
    refused = client.post(f"/tavoli/{table.slug}/membri/{seat.id}/rifiuta", data={f"r{seat.id}-reason": "  "})
    assert refused.status_code == 400
    assert "Indica il motivo" in page_text(refused)
    db.session.refresh(seat)
    assert seat.status == "requested"

    too_long = client.post(f"/tavoli/{table.slug}/membri/{seat.id}/rifiuta", data={f"r{seat.id}-reason": "x" * 1001})
    assert too_long.status_code == 400 and "Al massimo 1000 caratteri" in page_text(too_long)

    ok = client.post(f"/tavoli/{table.slug}/membri/{seat.id}/rifiuta",
                     data={f"r{seat.id}-reason": "L'associazione non opera nell'Ambito."})
    assert ok.status_code == 302
    client.logout()
    db.session.refresh(seat)
    assert seat.status == "rejected" and seat.rejection_reason == "L'associazione non opera nell'Ambito."

    client.login(rita)
    page = page_text(client.get(members_url(table)))
    assert "L'associazione non opera nell'Ambito." in page
    again = client.post(request_url(table), data={"delegate": rita.id})
    assert again.status_code == 302
    db.session.refresh(seat)
    assert seat.status == "requested" and seat.rejection_reason is None
    assert len(seats()) == 1


def test_an_accepted_member_changes_its_delegates_and_then_leaves(client, table, association, facilitator):
    org, rita, marco = association
    client.login(rita)
    client.post(request_url(table), data={"delegate": rita.id})
    seat = seats()[0]
    client.logout()
    client.login(facilitator)
    client.post(f"/tavoli/{table.slug}/membri/{seat.id}/accetta")
    client.logout()
    client.login(rita)

    changed = client.post(request_url(table), data={"delegate": marco.id, "substitute": str(rita.id)})
    assert changed.status_code == 302
    db.session.refresh(seat)
    assert (seat.delegate_id, seat.substitute_id, seat.status) == (marco.id, rita.id, "accepted")

    left = client.post(f"/tavoli/{table.slug}/membri/{seat.id}/uscita")
    assert left.status_code == 302
    db.session.refresh(seat)
    assert seat.status == "left"


@pytest.mark.parametrize(("delegate", "substitute", "message"), [
    ("outsider", "", "Scegli come delegato una persona attiva della tua organizzazione."),
    ("rita", "rita", "Il sostituto deve essere una persona diversa dal delegato."),
    ("rita", "outsider", "Scegli come sostituto una persona attiva della tua organizzazione."),
    ("rita", "abc", "Scegli come sostituto una persona attiva della tua organizzazione."),
])
def test_delegates_must_be_active_people_of_the_organisation(client, table, association, citizen, delegate,
                                                            substitute, message):
    _org, rita, _marco = association
    people = {"rita": str(rita.id), "outsider": str(citizen.id), "": "", "abc": "abc"}
    client.login(rita)

    response = client.post(request_url(table), data={"delegate": people[delegate],
                                                     "substitute": people.get(substitute, substitute)})

    assert response.status_code == 400
    assert message in page_text(response)
    assert seats() == []


ROLES = ["anonymous", "citizen", "representative", "facilitator", "other_facilitator", "admin"]


@pytest.fixture
def people(association, citizen, facilitator, other_facilitator, admin_user):
    _org, rita, _marco = association
    return {"anonymous": None, "citizen": citizen, "representative": rita, "facilitator": facilitator,
            "other_facilitator": other_facilitator, "admin": admin_user}


# role -> expected status of: the request form, accepting a pending seat
EXPECTED = {
    "anonymous": (302, 302),
    "citizen": (403, 403),
    "representative": (200, 403),
    "facilitator": (403, 302),
    "other_facilitator": (403, 403),
    "admin": (403, 302),
}


@pytest.mark.parametrize("role", ROLES)
def test_who_may_ask_and_who_may_accept(client, table, create_seat, people, role):
    pending = create_seat(table, name="Cooperativa Il Ponte", type="social_coop", status="requested")
    user = people[role]
    if user is not None:
        client.login(user)
    expected_form, expected_accept = EXPECTED[role]

    form = client.get(request_url(table))
    accept = client.post(f"/tavoli/{table.slug}/membri/{pending.member.id}/accetta")

    assert form.status_code == expected_form
    assert accept.status_code == expected_accept
    if expected_form == 403:
        assert "Solo chi rappresenta un'organizzazione verificata" in page_text(form)
    if expected_form == 302:
        assert "/accedi" in form.headers["Location"]
    db.session.refresh(pending.member)
    assert pending.member.status == ("accepted" if role in ("facilitator", "admin") else "requested")


def test_a_closed_tavolo_takes_no_new_members(client, create_tavolo, association):
    closed = create_tavolo(slug="chiuso", phase="closed")
    _org, rita, _marco = association
    client.login(rita)

    response = client.get(request_url(closed))

    assert response.status_code == 409
    assert "Il tavolo è chiuso" in page_text(response)


def test_accepting_twice_is_a_conflict(client, table, create_seat, facilitator):
    seat = create_seat(table, status="accepted")
    client.login(facilitator)

    response = client.post(f"/tavoli/{table.slug}/membri/{seat.member.id}/accetta")

    assert response.status_code == 409
    assert "non è in attesa di conferma" in page_text(response)


def test_a_seat_of_another_tavolo_is_not_found_here(client, table, other_table, create_seat, facilitator):
    elsewhere = create_seat(other_table, status="requested")
    client.login(facilitator)

    response = client.post(f"/tavoli/{table.slug}/membri/{elsewhere.member.id}/accetta")

    assert response.status_code == 404
    db.session.refresh(elsewhere.member)
    assert elsewhere.member.status == "requested"
