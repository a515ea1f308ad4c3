"""Convocation e-mails with the meeting's .ics attached.

The shared outbox (core/mail.py `queue_email`) renders each message and writes it
in the caller's transaction, .ics included. Views call these functions before
their commit: a convocation leaves only if the meeting was stored, and then
exactly once (the sender delivers it after the commit).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from consulta.core.mail import external_url, queue_email
from consulta.meetings.ics import meeting_calendar
from consulta.meetings.models import Meeting
from consulta.meetings.queries import accepted_members


def _subject(kind: str, meeting: Meeting):
    """Lazy, so the shared sender renders it in the recipient's language."""
    values = {"tavolo": meeting.tavolo.title, "title": meeting.title}
    if kind == "update":
        return _l("Convocazione aggiornata: %(tavolo)s – %(title)s", **values)
    if kind == "cancellation":
        return _l("Incontro annullato: %(tavolo)s – %(title)s", **values)
    return _l("Convocazione: %(tavolo)s – %(title)s", **values)
ICS_CONTENT_TYPE = "text/calendar; charset=utf-8; method=PUBLISH"


def convocation_recipients(meeting: Meeting) -> list[tuple[object, object]]:
    """(user, member) for every delegate and substitute of the tavolo's accepted members."""
    seen: set[int] = set()
    recipients = []
    for member in accepted_members(meeting.tavolo_id):
        for person in member.convocation_recipients:
            if person.id in seen or person.blocked_at is not None:
                continue
            seen.add(person.id)
            recipients.append((person, member))
    return recipients


def send_convocations(meeting: Meeting, kind: str = "convocation") -> int:
    """Queue an e-mail to every member's delegate and substitute; returns how many were queued."""
    calendar = meeting_calendar(meeting)
    meeting_url = external_url("meetings.show", meeting_id=meeting.id)
    ics_url = external_url("meetings.meeting_ics", meeting_id=meeting.id)
    sent = 0
    for person, member in convocation_recipients(meeting):
        role = _l("delegato/a") if person.id == member.delegate_id else _l("sostituto/a")
        queue_email(
            person.email, _subject(kind, meeting),
            f"meetings/{kind}", locale=person.locale, user=person, member=member, meeting=meeting,
            tavolo=meeting.tavolo, role=role, meeting_url=meeting_url, ics_url=ics_url,
            attachments=[{"filename": "incontro.ics", "content_type": ICS_CONTENT_TYPE,
                          "content": calendar if isinstance(calendar, str) else calendar.decode("utf-8")}],
        )
        sent += 1
    return sent
