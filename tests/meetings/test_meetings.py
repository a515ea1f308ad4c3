"""Facilitators convene meetings: convocation e-mails with an .ics, public pages and iCalendar feeds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlalchemy import select

from consulta.core.audit import AuditEvent
from consulta.core.db import utcnow
from consulta.core.notify import Notification
from consulta.extensions import db
from consulta.meetings.models import Meeting
from tests.meetings.helpers import page_text

ROME = ZoneInfo("Europe/Rome")


def new_url(tavolo):
    return f"/facilitazione/tavoli/{tavolo.slug}/incontri/nuovo"


def future_day(days=10):
    return (datetime.now(ROME) + timedelta(days=days)).date()


def meeting_data(**overrides):
    data = {"title": "Primo incontro di concertazione", "day": future_day().isoformat(), "start_time": "17:30",
            "end_time": "19:00", "place": "Sala consiliare, Piazza dei Priori 1, Narni", "online_url": "",
            "agenda": "- Apertura\n- Proposte sulla domiciliarità"}
    data.update(overrides)
    return data


def meetings():
    return db.session.execute(select(Meeting).order_by(Meeting.id)).scalars().all()


def ics_parts(message):
    return [part for part in message.walk() if part.get_content_type() == "text/calendar"]


def test_scheduling_sends_the_convocation_with_an_ics_to_delegates_and_substitutes(
        deliver_outbox, client, table, facilitator, create_seat, create_follow_tavolo, smtp_sink, create_proposal, citizen):
    auser = create_seat(table, name="Auser Narni", with_substitute=True)
    cgil = create_seat(table, name="CGIL Terni", type="union")
    create_seat(table, name="In attesa", status="requested")
    follower = create_follow_tavolo(table)
    proposal = create_proposal(table, citizen)
    client.login(facilitator)

    response = client.post(new_url(table), data=meeting_data(proposals=[str(proposal.id)]))

    assert response.status_code == 302
    meeting = meetings()[0]
    assert response.headers["Location"] == f"/incontri/{meeting.id}/"
    expected_start = datetime.combine(future_day(), datetime.strptime("17:30", "%H:%M").time(), ROME)
    assert meeting.starts_at == expected_start.astimezone(UTC)
    assert meeting.starts_at.tzinfo is not None and meeting.proposals == [proposal]
    assert "<li>Apertura</li>" in meeting.agenda_html

    deliver_outbox()
    messages = smtp_sink.wait_for(3)
    recipients = sorted(str(m["To"]) for m in messages)
    assert recipients == sorted([auser.delegate.email, auser.substitute.email, cgil.delegate.email])
    message = smtp_sink.to(auser.substitute.email)[0]
    assert "Convocazione" in message["Subject"] and table.title in message["Subject"]
    text = smtp_sink.text_of(message)
    assert "sostituto/a" in text and "17:30" in text and "Sala consiliare" in text
    assert f"/incontri/{meeting.id}/" in " ".join(smtp_sink.links_in(message))
    [attachment] = ics_parts(message)
    assert attachment.get_param("method") == "PUBLISH"
    calendar = icalendar.Calendar.from_ical(attachment.get_content())
    [event] = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == meeting.starts_at
    assert str(event["uid"]) == f"meeting-{meeting.id}@localhost" or str(event["uid"]).startswith(
        f"meeting-{meeting.id}@")
    assert "Primo incontro di concertazione" in str(event["summary"])

    notes = db.session.execute(select(Notification).where(Notification.event == "meeting.scheduled")).scalars().all()
    assert [n.user_id for n in notes] == [follower.id]
    assert notes[0].data["title"] == "Primo incontro di concertazione"
    assert db.session.execute(select(AuditEvent.action).where(AuditEvent.subject_type == "meeting")
                              ).scalars().all() == ["meeting.schedule"]

    page = page_text(client.get(response.headers["Location"]))
    assert "Convocazione in invio per e-mail a 3 persone" in page


@pytest.fixture
def create_follow_tavolo(create_user):
    from consulta.tavoli.models import Follow

    def factory(tavolo):
        user = create_user(email="segue@example.org", display_name="Sara Segue")
        db.session.add(Follow(user_id=user.id, tavolo_id=tavolo.id))
        db.session.commit()
        return user

    return factory


@pytest.mark.parametrize(("overrides", "field_message"), [
    ({"day": (datetime.now(ROME) - timedelta(days=1)).date().isoformat()}, "sono già passate"),
    ({"day": "31/02/2030"}, "Data non valida"),
    ({"day": "domani"}, "Data non valida"),
    ({"day": ""}, "Indica il giorno dell'incontro."),
    ({"start_time": "25:99"}, "Ora non valida"),
    ({"start_time": ""}, "Indica l'ora di inizio."),
    ({"end_time": "16:00"}, "L'ora di fine deve venire dopo l'ora di inizio."),
    ({"place": "", "online_url": ""}, "Indica il luogo dell'incontro o il collegamento online"),
    ({"online_url": "javascript:alert(1)"}, "deve essere un indirizzo completo che inizia con http"),
    ({"online_url": "ftp://example.org/x"}, "deve essere un indirizzo completo che inizia con http"),
    ({"title": ""}, "Questo campo è obbligatorio."),
    ({"title": "x" * 201}, "Al massimo 200 caratteri."),
    ({"place": "x" * 301}, "Al massimo 300 caratteri."),
    ({"agenda": "x" * 20_001}, "Al massimo 20000 caratteri."),
])
def test_bad_meeting_input_is_refused_with_a_clear_message(deliver_outbox, client, table, facilitator, create_seat, smtp_sink,
                                                           overrides, field_message):
    create_seat(table)
    client.login(facilitator)

    response = client.post(new_url(table), data=meeting_data(**overrides))

    assert response.status_code == 400
    html = page_text(response)
    assert field_message in html
    assert "Il modulo contiene errori" in html
    if overrides.get("title", "").startswith("x"):
        pass
    else:
        assert 'value="Primo incontro di concertazione"' in html or overrides.get("title") == ""
    assert meetings() == []
    deliver_outbox()
    assert smtp_sink.messages == []


def test_the_hour_skipped_by_summer_time_does_not_exist(client, table, facilitator):
    # The last Sunday of March, 02:30 does not exist in Italy.
    year = datetime.now(ROME).year + 1
    last_sunday = max(datetime(year, 3, d) for d in range(25, 32) if datetime(year, 3, d).weekday() == 6)
    client.login(facilitator)

    response = client.post(new_url(table), data=meeting_data(day=last_sunday.date().isoformat(), start_time="02:30",
                                                             end_time=""))

    assert response.status_code == 400
    assert "ora legale" in page_text(response)
    assert meetings() == []


def test_an_online_meeting_needs_no_place(client, table, facilitator):
    client.login(facilitator)

    response = client.post(new_url(table), data=meeting_data(place="", online_url="https://meet.example.org/abc"))

    assert response.status_code == 302
    assert meetings()[0].online_url == "https://meet.example.org/abc"
    assert meetings()[0].place is None


def test_proposals_of_another_tavolo_cannot_be_put_on_the_agenda(client, table, other_table, facilitator,
                                                                  create_proposal, citizen):
    foreign = create_proposal(other_table, citizen, title="Proposta di un altro tavolo")
    client.login(facilitator)

    response = client.post(new_url(table), data=meeting_data(proposals=[str(foreign.id)]))

    assert response.status_code == 400
    assert "Si possono collegare solo proposte e obiettivi di questo tavolo." in page_text(response)
    assert meetings() == []


ROLES = ["anonymous", "citizen", "other_facilitator", "facilitator", "admin"]
EXPECTED = {"anonymous": 302, "citizen": 403, "other_facilitator": 403, "facilitator": 200, "admin": 200}


@pytest.mark.parametrize("role", ROLES)
def test_only_the_tavolo_facilitators_and_admins_convene(client, table, citizen, facilitator, other_facilitator,
                                                         admin_user, role):
    user = {"anonymous": None, "citizen": citizen, "other_facilitator": other_facilitator,
            "facilitator": facilitator, "admin": admin_user}[role]
    if user is not None:
        client.login(user)

    form = client.get(new_url(table))
    post = client.post(new_url(table), data=meeting_data())

    assert form.status_code == EXPECTED[role]
    assert post.status_code == (302 if EXPECTED[role] in (200, 302) else 403)
    assert len(meetings()) == (1 if role in ("facilitator", "admin") else 0)


def test_the_public_reads_the_meeting_page_and_downloads_the_ics_and_the_feed(client, table, create_meeting):
    first = create_meeting(table, title="Primo incontro", starts_in=timedelta(days=3))
    second = create_meeting(table, title="Secondo incontro", starts_in=timedelta(days=30), place=None,
                            online_url="https://meet.example.org/tavolo")

    page = client.get(f"/incontri/{first.id}/")
    assert page.status_code == 200
    html = page_text(page)
    assert "Primo incontro" in html and "Sala consiliare, Narni" in html and "Convocato" in html
    assert f"/incontri/{first.id}.ics" in html

    single = client.get(f"/incontri/{first.id}.ics")
    assert single.status_code == 200 and single.mimetype == "text/calendar"
    assert "attachment" in single.headers["Content-Disposition"]
    [event] = icalendar.Calendar.from_ical(single.data).walk("VEVENT")
    assert event.decoded("dtstart") == first.starts_at
    assert str(event["location"]) == "Sala consiliare, Narni"

    feed = client.get(f"/tavoli/{table.slug}/incontri.ics")
    calendar = icalendar.Calendar.from_ical(feed.data)
    assert str(calendar["method"]) == "PUBLISH"
    events = calendar.walk("VEVENT")
    assert [str(e["uid"]) for e in events] == [f"meeting-{first.id}@127.0.0.1", f"meeting-{second.id}@127.0.0.1"] \
        or len({str(e["uid"]) for e in events}) == 2
    assert "https://meet.example.org/tavolo" in str(events[1]["location"])

    listing = page_text(client.get(f"/tavoli/{table.slug}/incontri/"))
    assert listing.index("Secondo incontro") < listing.index("Primo incontro")


def test_a_meeting_of_a_draft_tavolo_is_hidden_from_the_public(client, create_tavolo, create_meeting):
    draft = create_tavolo(slug="bozza", phase="draft")
    meeting = create_meeting(draft)

    assert client.get(f"/incontri/{meeting.id}/").status_code == 404
    assert client.get(f"/incontri/{meeting.id}.ics").status_code == 404
    assert client.get(f"/tavoli/{draft.slug}/incontri.ics").status_code == 404
    assert client.get("/incontri/999999/").status_code == 404


def test_changing_the_time_sends_an_updated_convocation_with_a_higher_sequence(
        deliver_outbox, client, table, facilitator, create_seat, create_meeting, smtp_sink):
    seat = create_seat(table)
    meeting = create_meeting(table)
    client.login(facilitator)

    form = client.get(f"/facilitazione/incontri/{meeting.id}/modifica")
    assert form.status_code == 200 and "Modifica l'incontro" in page_text(form)
    response = client.post(f"/facilitazione/incontri/{meeting.id}/modifica",
                           data=meeting_data(title=meeting.title, start_time="10:00", end_time=""))

    assert response.status_code == 302
    db.session.refresh(meeting)
    assert meeting.sequence == 1
    assert meeting.starts_at.astimezone(ROME).strftime("%H:%M") == "10:00"
    deliver_outbox()
    [message] = smtp_sink.wait_for(1)
    assert str(message["To"]) == seat.delegate.email and "aggiornata" in message["Subject"]
    [event] = icalendar.Calendar.from_ical(ics_parts(message)[0].get_content()).walk("VEVENT")
    assert int(event["sequence"]) == 1
    assert db.session.execute(select(AuditEvent.action).where(AuditEvent.subject_type == "meeting")
                              .order_by(AuditEvent.id)).scalars().all() == ["meeting.schedule", "meeting.update"]


def test_cancelling_needs_a_reason_and_tells_the_convened(deliver_outbox, client, table, facilitator, create_seat, create_meeting,
                                                         smtp_sink):
    seat = create_seat(table)
    meeting = create_meeting(table)
    client.login(facilitator)

    refused = client.post(f"/facilitazione/incontri/{meeting.id}/annulla", data={"reason": ""})
    assert refused.status_code == 400 and "Indica il motivo." in page_text(refused)
    db.session.refresh(meeting)
    assert meeting.status == "scheduled"

    response = client.post(f"/facilitazione/incontri/{meeting.id}/annulla", data={"reason": "Sala non disponibile"})

    assert response.status_code == 302
    db.session.refresh(meeting)
    assert (meeting.status, meeting.cancel_reason) == ("cancelled", "Sala non disponibile")
    deliver_outbox()
    [message] = smtp_sink.wait_for(1)
    assert str(message["To"]) == seat.delegate.email and "annullato" in message["Subject"]
    [event] = icalendar.Calendar.from_ical(ics_parts(message)[0].get_content()).walk("VEVENT")
    assert str(event["status"]) == "CANCELLED"
    again = client.get(f"/facilitazione/incontri/{meeting.id}/modifica")
    assert again.status_code == 409


def test_a_meeting_is_marked_held_only_after_it_started(client, table, facilitator, create_meeting):
    future = create_meeting(table, starts_in=timedelta(days=1))
    past = create_meeting(table, starts_in=timedelta(hours=-2))
    client.login(facilitator)

    early = client.post(f"/facilitazione/incontri/{future.id}/svolto")
    assert early.status_code == 409
    assert "non è ancora iniziato" in page_text(early)
    assert client.post(f"/facilitazione/incontri/{past.id}/svolto").status_code == 302
    db.session.refresh(future)
    db.session.refresh(past)
    assert (future.status, past.status) == ("scheduled", "held")


def test_meeting_times_are_stored_in_utc_and_shown_in_rome(client, table, create_meeting):
    meeting = create_meeting(table)
    stored = meeting.starts_at
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)
    shown = stored.astimezone(ROME).strftime("%H:%M")

    html = page_text(client.get(f"/incontri/{meeting.id}/"))

    assert shown in html
    assert utcnow() < stored
