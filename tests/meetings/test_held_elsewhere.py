"""A meeting held elsewhere (on paper, before Consulta) is recorded in the past and gets its minutes (issue 12)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from consulta.core.audit import AuditEvent
from consulta.core.notify import Notification
from consulta.digests.models import OutboxEmail
from consulta.extensions import db
from consulta.meetings.models import Meeting, Minutes
from tests.meetings.helpers import page_text
from tests.meetings.test_meetings import meeting_data

ROME = ZoneInfo("Europe/Rome")


def held_url(tavolo):
    return f"/facilitazione/tavoli/{tavolo.slug}/incontri/svolto"


def last_week():
    return (datetime.now(ROME) - timedelta(days=7)).date().isoformat()


def test_a_meeting_of_last_week_is_recorded_without_convocations_and_gets_its_minutes(
        client, table, facilitator, create_seat, create_follow, citizen, smtp_sink):
    create_seat(table)
    create_follow(citizen, tavolo=table)
    client.login(facilitator)
    assert "Registra un incontro già svolto" in page_text(client.get(f"/facilitazione/tavoli/{table.slug}/incontri/"))
    form = page_text(client.get(held_url(table)))
    assert "nessuna convocazione viene inviata" in form

    response = client.post(held_url(table), data=meeting_data(day=last_week(), title="Incontro del 30 novembre"))

    meeting = db.session.execute(select(Meeting)).scalar_one()
    assert response.status_code == 302 and response.headers["Location"] == f"/incontri/{meeting.id}/"
    assert meeting.status == "held" and meeting.title == "Incontro del 30 novembre"
    assert "Incontro registrato come svolto" in page_text(client.get(response.headers["Location"]))
    # Nobody is convened to the past: no e-mail, no notification; the audit log says what happened.
    assert smtp_sink.messages == [] and db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 0
    assert db.session.scalar(select(func.count()).where(Notification.event.like("meeting.%"))) == 0
    assert db.session.execute(select(AuditEvent.action).where(AuditEvent.subject_type == "meeting")).scalars().all() == [
        "meeting.record_held"]

    response = client.post(f"/facilitazione/tavoli/{table.slug}/verbali/nuovo", data={"meeting_id": meeting.id})
    minutes = db.session.execute(select(Minutes)).scalar_one()
    assert response.status_code == 302 and minutes.meeting_id == meeting.id and minutes.status == "draft"


def test_a_future_date_is_refused_with_the_way_to_convene(client, table, facilitator):
    client.login(facilitator)
    tomorrow = (datetime.now(ROME) + timedelta(days=1)).date().isoformat()

    response = client.post(held_url(table), data=meeting_data(day=tomorrow))

    html = page_text(response)
    assert response.status_code == 400
    assert "Questo incontro non si è ancora svolto: per un incontro futuro usa «Convoca un incontro»." in html
    assert 'value="Primo incontro di concertazione"' in html
    assert db.session.execute(select(Meeting)).first() is None


@pytest.mark.parametrize(("who", "expected"), [("anonymous", 302), ("citizen", 403), ("other_facilitator", 403)])
def test_only_the_tavolo_facilitators_record_a_held_meeting(request, client, table, who, expected):
    if who != "anonymous":
        client.login(request.getfixturevalue(who))
    assert client.get(held_url(table)).status_code == expected
    assert client.post(held_url(table), data=meeting_data(day=last_week())).status_code == expected
    assert db.session.execute(select(Meeting)).first() is None


def test_a_double_click_records_the_held_meeting_once(client, table, facilitator):
    from tests.test_submissions import token_of

    client.login(facilitator)
    data = {**meeting_data(day=last_week()), "submission_token": token_of(client.get(held_url(table)).get_data(
        as_text=True))}

    first, second = client.post(held_url(table), data=data), client.post(held_url(table), data=data)

    [meeting] = db.session.execute(select(Meeting)).scalars().all()
    assert first.headers["Location"] == second.headers["Location"] == f"/incontri/{meeting.id}/"


def test_a_future_date_is_shown_beside_the_day_in_english_too(client, table, facilitator):
    """The refusal stays beside the day whatever the language (the operation names the field)."""
    client.login(facilitator)
    client.get("/lingua/en")
    tomorrow = (datetime.now(ROME) + timedelta(days=1)).date().isoformat()

    html = page_text(client.post(held_url(table), data=meeting_data(day=tomorrow)))

    day_error = html.split('id="day-error"')[1].split("</div>")[0]
    assert "has not taken place yet" in day_error
