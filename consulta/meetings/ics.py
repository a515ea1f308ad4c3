"""iCalendar (RFC 5545) for meetings: one event, or a tavolo's subscribable feed.

Times are written in UTC (DTSTART:20250314T143000Z), which every client shows
in its own time zone. The UID is stable per meeting and SEQUENCE grows with
every change, so a calendar updates the event instead of adding a copy.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, timedelta
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from icalendar import Calendar, Event

from consulta.core.db import utcnow
from consulta.core.mail import external_url
from consulta.meetings.models import Meeting, MeetingStatus

PRODID = "-//Consulta//Piano Sociale di Zona//IT"


def meeting_uid(meeting: Meeting) -> str:
    host = urlsplit(current_app.config["PUBLIC_BASE_URL"]).hostname or "consulta.localhost"
    return f"meeting-{meeting.id}@{host}"


def _calendar(method: str, name: str | None = None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
        calendar.add("x-wr-timezone", "Europe/Rome")
        calendar.add("refresh-interval", timedelta(hours=6), parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", "PT6H")
    return calendar


def _event(meeting: Meeting) -> Event:
    url = external_url("meetings.show", meeting_id=meeting.id)
    event = Event()
    event.add("uid", meeting_uid(meeting))
    event.add("dtstamp", utcnow().replace(microsecond=0))
    event.add("dtstart", meeting.starts_at.astimezone(UTC))
    if meeting.ends_at is not None:
        event.add("dtend", meeting.ends_at.astimezone(UTC))
    event.add("summary", f"{meeting.tavolo.title}: {meeting.title}")
    location = meeting.place or meeting.online_url
    if meeting.place and meeting.online_url:
        location = f"{meeting.place} · {meeting.online_url}"
    event.add("location", location)
    lines = [_("Ordine del giorno:"), meeting.agenda.strip()] if meeting.agenda.strip() else []
    if meeting.online_url:
        lines.append(_("Collegamento: %(url)s", url=meeting.online_url))
    lines.append(_("Pagina dell'incontro: %(url)s", url=url))
    event.add("description", "\n\n".join(lines))
    event.add("url", url)
    event.add("sequence", meeting.sequence)
    event.add("status", "CANCELLED" if meeting.status == MeetingStatus.cancelled else "CONFIRMED")
    event.add("last-modified", meeting.updated_at.astimezone(UTC).replace(microsecond=0))
    return event


def meeting_calendar(meeting: Meeting) -> bytes:
    """A single meeting, for download and for the convocation e-mail."""
    calendar = _calendar("PUBLISH")
    calendar.add_component(_event(meeting))
    return calendar.to_ical()


def tavolo_feed(tavolo, meetings: Iterable[Meeting]) -> bytes:
    """Every meeting of a tavolo (cancelled ones too, so subscribers see them go)."""
    calendar = _calendar("PUBLISH", name=_("Incontri – %(title)s", title=tavolo.title))
    for meeting in meetings:
        calendar.add_component(_event(meeting))
    return calendar.to_ical()
