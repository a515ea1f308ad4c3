"""From Notification rows to readable lines, and from lines to one digest e-mail.

The notifications page shows one line per notification; the digest groups a
person's pending notifications by tavolo and, inside each tavolo, by section,
folding repeated events into one line ("12 nuovi commenti su «…»").

Everything a line says is checked against what the recipient may see *now*: a
proposal hidden after the notification was emitted does not leak its title.
Unknown events get a generic line, so nothing is silently dropped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, g, url_for
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, or_, select, union
from werkzeug.routing import BuildError

from consulta.accounts.models import User
from consulta.core.db import utcnow
from consulta.core.events import find_notice, say
from consulta.core.formatting import format_date, format_datetime
from consulta.core.notify import Notification
from consulta.extensions import db

ROME = ZoneInfo("Europe/Rome")
FREQUENCIES = ("daily", "weekly")


# --------------------------------------------------------------------------- periods

def period_key(frequency: str, now: datetime | None = None) -> str:
    """The period a digest belongs to, on the Europe/Rome calendar: daily:2026-11-23, weekly:2026-W48."""
    local = (now or utcnow()).astimezone(ROME)
    if frequency == "daily":
        return f"daily:{local.date().isoformat()}"
    if frequency == "weekly":
        year, week, _day = local.isocalendar()
        return f"weekly:{year}-W{week:02d}"
    raise ValueError(f"no digest period for frequency {frequency!r}")


# --------------------------------------------------------------------------- links

class Links:
    """Builds links to the things notifications talk about: relative on the site, absolute in e-mails.

    Some pages (objectives, meetings, minutes) belong to domains still being built;
    when their endpoint does not exist yet the link falls back to the designed path
    or to the tavolo page, never to an error.
    """

    def __init__(self, absolute: bool):
        self.absolute = absolute

    def _base(self) -> str:
        return current_app.config["PUBLIC_BASE_URL"].rstrip("/")

    def endpoint(self, endpoint: str, _anchor: str | None = None, **values: Any) -> str | None:
        try:
            if self.absolute:
                from consulta.core.mail import external_url

                return external_url(endpoint, _anchor=_anchor, **values)
            return url_for(endpoint, _anchor=_anchor, **values)
        except BuildError:
            return None

    def path(self, path: str, anchor: str | None = None) -> str:
        return (self._base() + path if self.absolute else path) + (f"#{anchor}" if anchor else "")

    def first(self, *candidates: tuple[str, dict[str, Any]], fallback: str | None = None,
              anchor: str | None = None) -> str | None:
        for endpoint, values in candidates:
            url = self.endpoint(endpoint, _anchor=anchor, **values)
            if url is not None:
                return url
        return self.path(fallback, anchor) if fallback else None

    # The subjects notifications point to.
    def tavolo(self, tavolo) -> str:
        return self.first(("tavoli.show", {"slug": tavolo.slug}), fallback=f"/tavoli/{tavolo.slug}/")

    def proposal(self, proposal_id: int, anchor: str | None = None) -> str:
        return self.first(("proposals.show", {"proposal_id": proposal_id}),
                          fallback=f"/proposte/{proposal_id}/", anchor=anchor)

    def objective(self, objective, anchor: str | None = None) -> str:
        slug = objective.tavolo.slug
        return self.first(("tavoli.objective", {"slug": slug, "objective_id": objective.id}),
                          fallback=f"/tavoli/{slug}/obiettivi/{objective.id}/", anchor=anchor)

    def comment(self, comment_id: int) -> str:
        """A comment's permalink: it leads to the chunk of the discussion that shows it."""
        return self.first(("comments.permalink", {"comment_id": comment_id}), fallback=f"/commenti/{comment_id}")

    def preferences(self) -> str:
        return self.endpoint("digests.preferences")

    def notifications(self) -> str:
        return self.endpoint("digests.index")

    def unsubscribe(self, token: str) -> str:
        return self.endpoint("digests.unsubscribe_link", token=token)


# --------------------------------------------------------------------------- subjects

def _load(model, ids: set[int]) -> dict[int, Any]:
    if not ids:
        return {}
    return {obj.id: obj for obj in db.session.execute(select(model).where(model.id.in_(ids))).unique().scalars()}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class Subjects:
    """The objects a batch of notifications talks about, loaded with one query per kind."""

    def __init__(self, notifications: Sequence[Notification]):
        from consulta.comments.models import Comment
        from consulta.organisations.models import Organisation
        from consulta.proposals.models import Proposal
        from consulta.tavoli.models import Objective, Tavolo

        ids: dict[str, set[int]] = defaultdict(set)
        for note in notifications:
            if note.subject_id is not None:
                ids[note.subject_type].add(note.subject_id)
            if note.tavolo_id is not None:
                ids["tavolo"].add(note.tavolo_id)
            data = note.data or {}
            if data.get("subject_type") in ("proposal", "objective") and _int(data.get("subject_id")):
                ids[data["subject_type"]].add(data["subject_id"])
        # Tavoli first: proposals and objectives then find theirs in the identity map, without a query each.
        self.tavoli: dict[int, Tavolo] = _load(Tavolo, ids["tavolo"])
        self.proposals: dict[int, Proposal] = _load(Proposal, ids["proposal"])
        self.objectives: dict[int, Objective] = _load(Objective, ids["objective"])
        self.comments: dict[int, Comment] = _load(Comment, ids["comment"])
        self.organisations: dict[int, Organisation] = _load(Organisation, ids["organisation"])
        missing = {p.tavolo_id for p in self.proposals.values()} - self.tavoli.keys()
        self.tavoli.update(_load(Tavolo, missing))
        from consulta.meetings.models import Meeting
        from consulta.meetings.queries import approved_minutes_ids

        # Meetings as they are now: one convened last week may have taken place since.
        self.meetings: dict[int, Meeting] = _load(Meeting, ids["meeting"])
        self.minutes_of_meeting: dict[int, int] = approved_minutes_ids(sorted(self.meetings))


# --------------------------------------------------------------------------- lines

class Section:
    account = "account"
    decisions = "decisions"
    yours = "yours"
    awaiting = "awaiting"
    meetings = "meetings"
    held = "held"
    discussion = "discussion"
    other = "other"


SECTION_ORDER = (Section.account, Section.decisions, Section.yours, Section.awaiting, Section.meetings,
                 Section.held, Section.discussion, Section.other)
SECTION_TITLES = {
    Section.account: _l("Il tuo account e le tue organizzazioni"),
    Section.decisions: _l("Decisioni dall'ultimo riepilogo"),
    Section.yours: _l("Le tue proposte"),
    Section.awaiting: _l("In attesa del tuo contributo"),
    Section.meetings: _l("Prossimi incontri"),
    Section.held: _l("Incontri svolti"),
    Section.discussion: _l("Nella discussione"),
    Section.other: _l("Altri aggiornamenti"),
}

DECISION_OUTCOMES = {
    "approved": _l("approvata"),
    "partially_approved": _l("approvata in parte"),
    "rejected": _l("non approvata"),
    "deferred": _l("rinviata"),
}


@dataclass
class Line:
    section: str
    text: str
    url: str | None
    count: int = 1
    details: list[str] = field(default_factory=list)
    when: datetime | None = None


def contributions(user_ids: Sequence[int], proposal_ids: Iterable[int]) -> dict[int, set[int]]:
    """For each of `user_ids`, the proposals among `proposal_ids` they voted on or commented (one query)."""
    from consulta.comments.models import Comment
    from consulta.votes.models import Vote

    ids = list(proposal_ids)
    if not ids or not user_ids:
        return {}
    result: dict[int, set[int]] = defaultdict(set)
    for user_id, proposal_id in db.session.execute(union(
        select(Vote.voter_id, Vote.proposal_id).where(Vote.voter_id.in_(user_ids), Vote.proposal_id.in_(ids)),
        select(Comment.author_id, Comment.proposal_id).where(Comment.author_id.in_(user_ids),
                                                             Comment.proposal_id.in_(ids)),
    )):
        result[user_id].add(proposal_id)
    return result


@dataclass
class Context:
    recipient: User
    subjects: Subjects
    links: Links
    # What `contributed` says, when the caller asked for a whole batch of recipients at once.
    known_contributions: set[int] | None = None

    @cached_property
    def contributed(self) -> set[int]:
        """The proposals of these subjects the recipient already voted on or commented (one query)."""
        if self.known_contributions is not None:
            return self.known_contributions
        return contributions([self.recipient.id], self.subjects.proposals).get(self.recipient.id, set())

    def awaits_contribution(self, proposal) -> bool:
        """Open to votes and comments, and the recipient has not taken part yet."""
        return (proposal.state in ("published", "under_review") and proposal.tavolo.phase in ("open", "discussion")
                and proposal.id not in self.contributed)


Describer = Callable[[Context, list[Notification]], Line | None]


def _title(obj: Any, data: dict[str, Any], key: str = "title") -> str:
    value = getattr(obj, "title", None) or data.get(key) or data.get("subject_title") or data.get("name")
    return str(value) if value else _("senza titolo")


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo("UTC"))
    return None


def _excerpt(text: str | None, limit: int = 280) -> str | None:
    if not text:
        return None
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _readable_proposal(ctx: Context, proposal_id: int | None):
    proposal = ctx.subjects.proposals.get(proposal_id) if proposal_id is not None else None
    if proposal is None or not proposal.can_read_text(ctx.recipient):
        return None
    return proposal


def _visible_objective(ctx: Context, objective_id: int | None):
    objective = ctx.subjects.objectives.get(objective_id) if objective_id is not None else None
    if objective is None or not objective.can_view(ctx.recipient):
        return None
    return objective


def _tavolo_of(ctx: Context, note: Notification):
    tavolo = ctx.subjects.tavoli.get(note.tavolo_id) if note.tavolo_id is not None else None
    if tavolo is None or not tavolo.can_view(ctx.recipient):
        return None
    return tavolo


def _reason(data: dict[str, Any]) -> str | None:
    """Why, in the recipient's language: the system's reason (a key) and a person's own words."""
    return say(data.get("reason_key"), data.get("reason"))


def _last(notes: list[Notification]) -> datetime | None:
    return max((n.created_at for n in notes), default=None)


# --- objectives --------------------------------------------------------------

def _objective_line(ctx: Context, notes: list[Notification]) -> Line | None:
    note = notes[-1]
    objective = _visible_objective(ctx, note.subject_id)
    if objective is None:
        return None
    title = objective.title
    url = ctx.links.objective(objective)
    if note.event == "objective.published":
        return Line(Section.awaiting, _("Nuovo obiettivo da discutere: «%(title)s»", title=title), url,
                    when=_last(notes))
    if note.event == "objective.revised":
        text = ngettext("L'obiettivo «%(title)s» è stato modificato",
                        "L'obiettivo «%(title)s» è stato modificato %(num)d volte", len(notes), title=title)
        return Line(Section.awaiting, text, url, count=len(notes), when=_last(notes))
    if note.event == "objective.approved":
        return Line(Section.decisions, _("L'obiettivo «%(title)s» è stato approvato", title=title), url,
                    when=_last(notes))
    return Line(Section.decisions, _("L'obiettivo «%(title)s» è stato ritirato", title=title), url,
                when=_last(notes))


# --- proposals -----------------------------------------------------------------

def _proposal_line(ctx: Context, notes: list[Notification]) -> Line | None:
    note = notes[-1]
    proposal = _readable_proposal(ctx, note.subject_id)
    if proposal is None:
        return None
    title = proposal.title
    url = ctx.links.proposal(proposal.id)
    own = proposal.author_id == ctx.recipient.id
    when = _last(notes)
    data = note.data or {}
    event = note.event
    if event in ("proposal.published", "proposal.approved_for_publication"):
        if own:
            text = _("La tua proposta «%(title)s» è stata pubblicata", title=title)
            return Line(Section.yours, text, url, when=when)
        section = Section.awaiting if ctx.awaits_contribution(proposal) else Section.discussion
        return Line(section, _("Nuova proposta: «%(title)s»", title=title), url, when=when)
    if event == "proposal.answered":
        details = [d for d in [_excerpt(proposal.answer)] if d]
        if own:
            text = _("La tua proposta «%(title)s» ha ricevuto una risposta: %(state)s", title=title,
                     state=proposal.state_label.lower())
            return Line(Section.yours, text, url, details=details, when=when)
        text = _("Risposta alla proposta «%(title)s»: %(state)s", title=title, state=proposal.state_label.lower())
        return Line(Section.decisions, text, url, details=details, when=when)
    if event == "proposal.merged":
        if own:
            return Line(Section.yours, _("La tua proposta «%(title)s» è stata unita a un'altra proposta",
                                         title=title), url, when=when)
        return Line(Section.decisions, _("La proposta «%(title)s» è stata unita a un'altra proposta", title=title),
                    url, when=when)
    if event == "proposal.hidden":
        if not own:
            return None
        reason = _reason(data) or proposal.hidden_reason_text
        return Line(Section.yours, _("La tua proposta «%(title)s» è stata nascosta dai moderatori", title=title),
                    url, details=[_("Motivo: %(reason)s", reason=reason)] if reason else [], when=when)
    if event == "proposal.withdrawn":
        return Line(Section.other, _("La proposta «%(title)s» è stata ritirata", title=title), url, when=when)
    if event == "proposal.under_review" and own:
        return Line(Section.yours, _("La tua proposta «%(title)s» è in valutazione da parte dei facilitatori",
                                     title=title), url, when=when)
    if event == "proposal.restored" and own:
        return Line(Section.yours, _("La tua proposta «%(title)s» è di nuovo visibile", title=title), url,
                    when=when)
    return _generic_line(ctx, notes)


# --- comments ------------------------------------------------------------------

def _comment_subject(ctx: Context, note: Notification, comment) -> tuple[Any, str | None]:
    """The proposal or objective a comment is on, if the recipient may see it, and its URL builder kind."""
    data = note.data or {}
    kind = data.get("subject_type")
    subject_id = _int(data.get("subject_id"))
    if comment is not None:
        kind = "proposal" if comment.proposal_id is not None else "objective"
        subject_id = comment.proposal_id or comment.objective_id
    if kind == "proposal":
        return _readable_proposal(ctx, subject_id), "proposal"
    if kind == "objective":
        return _visible_objective(ctx, subject_id), "objective"
    return None, None


def _comment_line(ctx: Context, notes: list[Notification]) -> Line | None:
    readable = []
    for note in notes:
        comment = ctx.subjects.comments.get(note.subject_id)
        if comment is not None and comment.can_read_text(ctx.recipient):
            readable.append((note, comment))
    if not readable:
        return None
    first_note, first_comment = readable[0]
    subject, kind = _comment_subject(ctx, first_note, first_comment)
    if subject is None:
        return None
    url = ctx.links.comment(first_comment.id)
    count = len(readable)
    title = subject.title
    when = _last([n for n, _c in readable])
    if first_note.event == "comment.reply":
        author = (first_note.data or {}).get("author_name") or _("Qualcuno")
        # Two different sentences, not two forms of one: one reply names its author.
        text = (_("%(author)s ha risposto al tuo commento su «%(title)s»", author=author, title=title) if count == 1
                else _("%(num)d risposte ai tuoi commenti su «%(title)s»", num=count, title=title))
        return Line(Section.yours, text, url, count=count, when=when)
    if kind == "proposal" and subject.author_id == ctx.recipient.id:
        text = ngettext("Un nuovo commento sulla tua proposta «%(title)s»",
                        "%(num)d nuovi commenti sulla tua proposta «%(title)s»", count, title=title)
        return Line(Section.yours, text, url, count=count, when=when)
    text = ngettext("Un nuovo commento su «%(title)s»", "%(num)d nuovi commenti su «%(title)s»", count, title=title)
    return Line(Section.discussion, text, url, count=count, when=when)


def _moderated_comment_line(ctx: Context, notes: list[Notification]) -> Line | None:
    """What the moderators did to one of the recipient's comments."""
    note = notes[-1]
    comment = ctx.subjects.comments.get(note.subject_id)
    if comment is None or comment.author_id != ctx.recipient.id or comment.is_deleted:
        return None
    subject, kind = _comment_subject(ctx, note, comment)
    if subject is None:
        return None
    anchor = f"commento-{comment.id}"
    url = ctx.links.proposal(subject.id, anchor) if kind == "proposal" else ctx.links.objective(subject, anchor)
    title, when = subject.title, _last(notes)
    if note.event == "comment.hidden":
        reason = _reason(note.data or {}) or comment.hidden_reason_text
        return Line(Section.yours, _("Il tuo commento su «%(title)s» è stato nascosto dai moderatori", title=title),
                    url, details=[_("Motivo: %(reason)s", reason=reason)] if reason else [], when=when)
    if note.event == "comment.restored":
        return Line(Section.yours, _("Il tuo commento su «%(title)s» è di nuovo visibile", title=title), url,
                    when=when)
    return Line(Section.yours, _("Il tuo commento su «%(title)s» è stato approvato ed è ora pubblico", title=title),
                url, when=when)


# --- tavoli ----------------------------------------------------------------------

def _phase_line(ctx: Context, notes: list[Notification]) -> Line | None:
    from consulta.tavoli.models import PHASE_LABELS

    note = notes[-1]
    tavolo = _tavolo_of(ctx, note)
    if tavolo is None:
        return None
    data = note.data or {}
    phase = data.get("to") or data.get("phase") or tavolo.phase
    label = PHASE_LABELS.get(phase)
    if label is None:
        return _generic_line(ctx, notes)
    section = Section.awaiting if phase in ("open", "discussion") else Section.decisions
    text = _("Il tavolo è passato alla fase «%(phase)s»", phase=label)
    return Line(section, text, ctx.links.tavolo(tavolo), when=_last(notes))


def _deadline_line(ctx: Context, notes: list[Notification]) -> Line | None:
    note = notes[-1]
    tavolo = _tavolo_of(ctx, note)
    if tavolo is None:
        return None
    deadline = tavolo.proposal_deadline or _moment((note.data or {}).get("deadline"))
    if deadline is None or deadline <= utcnow() or not tavolo.phase_allows("propose"):
        return None  # the warning is stale: nothing is awaited any more
    text = _("Ultimi giorni per presentare proposte: il termine scade il %(date)s alle %(time)s",
             date=format_datetime(deadline, "d MMMM yyyy"), time=format_datetime(deadline, "HH:mm"))
    return Line(Section.awaiting, text, ctx.links.tavolo(tavolo), when=_last(notes))


# --- meetings, minutes, plan (emitted by later issues; data documented in docs/digests.md) ---

def _meeting_line(ctx: Context, notes: list[Notification]) -> Line | None:
    """A convened, moved or cancelled meeting; one that has taken place meanwhile goes under
    "Incontri svolti", with its minutes when they are approved."""
    note = notes[-1]
    tavolo = _tavolo_of(ctx, note)
    if note.tavolo_id is not None and tavolo is None:
        return None
    data = note.data or {}
    meeting = ctx.subjects.meetings.get(note.subject_id)
    title = meeting.title if meeting else data.get("title") or _("Incontro")
    starts_at = meeting.starts_at if meeting else _moment(data.get("starts_at"))
    when_text = (_("%(date)s alle %(time)s", date=format_datetime(starts_at, "EEEE d MMMM yyyy"),
                   time=format_datetime(starts_at, "HH:mm")) if starts_at is not None else None)
    meeting_url = ctx.links.first(("meetings.show", {"meeting_id": note.subject_id})) or (
        ctx.links.tavolo(tavolo) if tavolo else None)
    details = [str(data["place"])] if data.get("place") else []
    if note.event == "meeting.cancelled" or (meeting is not None and meeting.status == "cancelled"):
        reason = _reason(data) or (meeting.cancel_reason if meeting else None)
        reasons = [_("Motivo: %(reason)s", reason=reason)] if reason else []
        return Line(Section.meetings, _("Annullato l'incontro «%(title)s»", title=title), meeting_url,
                    details=reasons, when=_last(notes))
    if starts_at is not None and starts_at <= utcnow():  # it has taken place meanwhile
        minutes_id = ctx.subjects.minutes_of_meeting.get(note.subject_id)
        if minutes_id is not None:
            return Line(Section.held, _("Si è svolto l'incontro «%(title)s» (%(when)s): il verbale è approvato",
                                        title=title, when=when_text),
                        ctx.links.first(("meetings.minutes", {"minutes_id": minutes_id})) or meeting_url,
                        when=_last(notes))
        return Line(Section.held, _("Si è svolto l'incontro «%(title)s» (%(when)s)", title=title, when=when_text),
                    meeting_url, when=_last(notes))
    if note.event == "meeting.updated":
        text = _("Cambiato l'incontro «%(title)s»: ora %(when)s", title=title, when=when_text)
    elif when_text is not None:
        text = _("Incontro «%(title)s»: %(when)s", title=title, when=when_text)
    else:
        text = _("Nuovo incontro in calendario: «%(title)s»", title=title)
    return Line(Section.meetings, text, meeting_url, details=details, when=_last(notes))


def _minutes_line(ctx: Context, notes: list[Notification]) -> Line | None:
    note = notes[-1]
    tavolo = _tavolo_of(ctx, note)
    if note.tavolo_id is not None and tavolo is None:
        return None
    data = note.data or {}
    meeting_date = _moment(data.get("meeting_starts_at") or data.get("meeting_date") or data.get("starts_at"))
    meeting = data.get("meeting") or _("un incontro")
    date = format_date(meeting_date.astimezone(ROME).date(), "d MMMM yyyy") if meeting_date else "—"
    if data.get("corrects_id"):
        text = _("Approvata la rettifica del verbale n. %(number)s («%(meeting)s» del %(date)s)",
                 number=data["corrects_id"], meeting=meeting, date=date)
    else:
        text = _("Approvato il verbale n. %(number)s («%(meeting)s» del %(date)s)", number=note.subject_id,
                 meeting=meeting, date=date)
    details = []
    for decision in data.get("decisions") or []:
        if not isinstance(decision, dict):
            continue
        outcome = DECISION_OUTCOMES.get(decision.get("outcome"), decision.get("outcome") or "")
        details.append(_("«%(title)s»: %(outcome)s", title=decision.get("title") or _("senza titolo"),
                         outcome=outcome))
    url = ctx.links.first(("meetings.minutes", {"minutes_id": note.subject_id})) or (
        ctx.links.tavolo(tavolo) if tavolo else None)
    return Line(Section.decisions, text, url, details=details, when=_last(notes))


def _plan_line(ctx: Context, notes: list[Notification]) -> Line | None:
    note = notes[-1]
    data = note.data or {}
    title = data.get("title") or _("Piano Sociale di Zona")
    url = ctx.links.first(("plan.show", {"plan_id": note.subject_id}), ("plan.index", {}))
    return Line(Section.decisions, _("Il Piano «%(title)s» è stato adottato", title=title), url, when=_last(notes))


# --- organisations and memberships -------------------------------------------------

def _organisation_line(ctx: Context, notes: list[Notification]) -> Line | None:
    note = notes[-1]
    data = note.data or {}
    organisation = ctx.subjects.organisations.get(note.subject_id)
    name = getattr(organisation, "name", None) or data.get("name") or _("senza nome")
    url = ctx.links.first(("organisations.show", {"organisation_id": note.subject_id}))
    reason = _reason(data)
    details = [_("Motivo: %(reason)s", reason=reason)] if reason else []
    texts = {
        "organisation.verified": _("L'organizzazione «%(name)s» è stata verificata", name=name),
        "organisation.rejected": _("La richiesta di registrare «%(name)s» è stata respinta", name=name),
        "organisation.revoked": _("«%(name)s» non è più un'organizzazione verificata", name=name),
        "organisation.requested": _("Nuova richiesta di registrazione: «%(name)s»", name=name),
    }
    if note.event == "organisation.requested":
        url = ctx.links.first(("admin.index", {})) or url
    return Line(Section.account, texts[note.event], url, details=details, when=_last(notes))


def _membership_line(ctx: Context, notes: list[Notification]) -> Line | None:
    note = notes[-1]
    data = note.data or {}
    organisation = data.get("organisation") or _("un'organizzazione")
    reason = _reason(data)
    details = [_("Motivo: %(reason)s", reason=reason)] if reason else []
    texts = {
        "membership.accepted": _("Ora rappresenti «%(organisation)s»", organisation=organisation),
        "membership.rejected": _("La tua richiesta di rappresentare «%(organisation)s» è stata respinta",
                                 organisation=organisation),
        "membership.revoked": _("Non rappresenti più «%(organisation)s»", organisation=organisation),
        "membership.requested": _("%(user)s chiede di rappresentare «%(organisation)s»",
                                  user=data.get("user") or _("Una persona"), organisation=organisation),
    }
    if note.event == "membership.requested":
        url = ctx.links.first(("admin.index", {}))
    else:
        url = ctx.links.first(("accounts.profile", {}))
    return Line(Section.account, texts[note.event], url, details=details, when=_last(notes))


# --- anything else -------------------------------------------------------------------

def _generic_line(ctx: Context, notes: list[Notification]) -> Line | None:
    """A notice without a family of lines of its own: its words from the event catalogue (or, for an
    event the catalogue does not know, a plain line), with the best link we can find."""
    note = notes[-1]
    data = note.data or {}
    url = None
    title = data.get("title") or data.get("subject_title") or data.get("name") or data.get("organisation")
    if note.subject_type == "proposal":
        proposal = _readable_proposal(ctx, note.subject_id)
        if proposal is None:
            return None
        url, title = ctx.links.proposal(proposal.id), proposal.title
    elif note.subject_type == "objective":
        objective = _visible_objective(ctx, note.subject_id)
        if objective is None:
            return None
        url, title = ctx.links.objective(objective), objective.title
    elif note.tavolo_id is not None:
        tavolo = _tavolo_of(ctx, note)
        if tavolo is None:
            return None
        url = ctx.links.tavolo(tavolo)
    count = len(notes)
    known = find_notice(note.event)
    if known is not None:
        what = str(known.label)
        text = _("%(what)s: «%(title)s»", what=what, title=str(title)) if title else what
    elif title:
        text = ngettext("Un aggiornamento su «%(title)s»", "%(num)d aggiornamenti su «%(title)s»", count,
                        title=str(title))
    else:
        text = ngettext("Un nuovo aggiornamento", "%(num)d nuovi aggiornamenti", count)
    return Line(Section.other, text, url, count=count, when=_last(notes))


# The lines of each family of notices: a domain's events.py names its notices' family
# (consulta.core.events.Notice.digest).
FAMILIES: dict[str, Describer] = {
    "objective": _objective_line,
    "proposal": _proposal_line,
    "comment": _comment_line,
    "moderated_comment": _moderated_comment_line,
    "phase": _phase_line,
    "deadline": _deadline_line,
    "meeting": _meeting_line,
    "minutes": _minutes_line,
    "plan": _plan_line,
    "organisation": _organisation_line,
    "membership": _membership_line,
}


def fold_key(note: Notification) -> tuple:
    """Notifications with the same key become one line in a digest."""
    data = note.data or {}
    if note.event in ("comment.created", "comment.reply") and data.get("subject_type"):
        return note.event, data.get("subject_type"), data.get("subject_id")
    if note.event in ("tavolo.phase_changed", "tavolo.deadline_soon"):
        return note.event, note.tavolo_id
    if find_notice(note.event) is not None:
        return note.event, note.subject_type, note.subject_id
    # Unknown events fold per subject whatever their name.
    return "?", note.subject_type, note.subject_id


def describe(ctx: Context, notes: list[Notification]) -> Line | None:
    known = find_notice(notes[0].event)
    describer = FAMILIES[known.digest] if known is not None and known.digest else _generic_line
    return describer(ctx, notes)


@dataclass
class PageItem:
    note: Notification
    line: Line | None  # None: what it talked about is no longer visible to the recipient
    tavolo_title: str | None


def page_lines(notifications: Sequence[Notification], recipient: User) -> list[PageItem]:
    """One line per notification for the notifications page, with relative links."""
    ctx = Context(recipient=recipient, subjects=Subjects(notifications), links=Links(absolute=False))
    items = []
    for note in notifications:
        tavolo = ctx.subjects.tavoli.get(note.tavolo_id) if note.tavolo_id is not None else None
        visible_tavolo = tavolo is not None and tavolo.can_view(recipient)
        items.append(PageItem(note, describe(ctx, [note]), tavolo.title if visible_tavolo else None))
    return items


# --------------------------------------------------------------------------- moderation queue

@dataclass
class QueueCount:
    tavolo_title: str
    proposals: int
    comments: int
    url: str | None


def moderation_queues(users: Sequence[User], links: Links) -> dict[int, list[QueueCount]]:
    """Pending proposals and comments in the tavoli each of `users` facilitates: three GROUP BY
    queries for the whole batch, none when nobody in it facilitates."""
    from consulta.comments.models import Comment
    from consulta.proposals.models import Proposal
    from consulta.tavoli.models import Tavolo, tavolo_facilitator

    staff = [user.id for user in users if user.role in ("facilitator", "admin")]
    if not staff:
        return {}
    facilitator = tavolo_facilitator.c.user_id
    # user id -> tavolo id -> (proposals, comments)
    counts: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for column, model, pending in (
            (0, Proposal, and_(Proposal.visibility == "pending", Proposal.state == "submitted")),
            (1, Comment, and_(Comment.visibility == "pending", Comment.deleted_at.is_(None)))):
        for user_id, tavolo_id, count in db.session.execute(
                select(facilitator, model.tavolo_id, func.count())
                .join(tavolo_facilitator, tavolo_facilitator.c.tavolo_id == model.tavolo_id)
                .where(facilitator.in_(staff), pending).group_by(facilitator, model.tavolo_id)):
            counts[user_id][tavolo_id][column] = count
    ids = {tavolo_id for by_tavolo in counts.values() for tavolo_id in by_tavolo}
    if not ids:
        return {}
    tavoli = db.session.execute(
        select(Tavolo).where(Tavolo.id.in_(ids)).order_by(Tavolo.position, Tavolo.title)).scalars().all()
    urls = {tavolo.id: links.first(("moderation.queue", {"slug": tavolo.slug}), ("tavoli.facilitation_home", {}),
                                   fallback="/facilitazione/") for tavolo in tavoli}
    return {user_id: [QueueCount(tavolo.title, *by_tavolo[tavolo.id], urls[tavolo.id])
                      for tavolo in tavoli if tavolo.id in by_tavolo]
            for user_id, by_tavolo in counts.items()}


def has_moderation_queue():
    """SQL: the user (correlated) facilitates a tavolo with something pending."""
    from consulta.comments.models import Comment
    from consulta.proposals.models import Proposal
    from consulta.tavoli.models import tavolo_facilitator

    pending_proposal = exists().where(Proposal.tavolo_id == tavolo_facilitator.c.tavolo_id,
                                      Proposal.visibility == "pending", Proposal.state == "submitted")
    pending_comment = exists().where(Comment.tavolo_id == tavolo_facilitator.c.tavolo_id,
                                     Comment.visibility == "pending", Comment.deleted_at.is_(None))
    return and_(User.role.in_(("facilitator", "admin")),
                exists().where(tavolo_facilitator.c.user_id == User.id, or_(pending_proposal, pending_comment)))


# --------------------------------------------------------------------------- the digest

@dataclass
class SectionBlock:
    key: str
    title: str
    lines: list[Line]
    more: int = 0


@dataclass
class TavoloBlock:
    title: str
    url: str | None
    sections: list[SectionBlock]


@dataclass
class Digest:
    recipient: User
    frequency: str
    period_key: str
    notification_ids: list[int]
    blocks: list[TavoloBlock]
    queue: list[QueueCount]
    total: int
    subject: str = ""
    text: str = ""
    html: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not self.blocks and not self.queue


def pending_notifications(user_id: int) -> list[Notification]:
    """Everything not yet put in a digest, oldest first."""
    return pending_notifications_of([user_id]).get(user_id, [])


def pending_notifications_of(user_ids: Sequence[int]) -> dict[int, list[Notification]]:
    """Everything not yet put in a digest for each of these people, oldest first (one query)."""
    result: dict[int, list[Notification]] = defaultdict(list)
    for note in db.session.execute(
            select(Notification).where(Notification.user_id.in_(user_ids), Notification.digested_at.is_(None))
            .order_by(Notification.created_at, Notification.id)).scalars():
        result[note.user_id].append(note)
    return result


def _blocks(ctx: Context, notifications: Iterable[Notification], per_section: int) -> tuple[list[TavoloBlock], int]:
    by_key: dict[tuple, list[Notification]] = defaultdict(list)
    for note in notifications:
        by_key[(note.tavolo_id, *fold_key(note))].append(note)
    # tavolo id -> section -> lines
    grouped: dict[int | None, dict[str, list[Line]]] = defaultdict(lambda: defaultdict(list))
    total = 0
    for (tavolo_id, *_key), notes in by_key.items():
        line = describe(ctx, notes)
        if line is None:
            continue
        grouped[tavolo_id][line.section].append(line)
        total += line.count
    blocks = []
    general = grouped.pop(None, None)

    def sections(by_section: dict[str, list[Line]]) -> list[SectionBlock]:
        result = []
        for key in SECTION_ORDER:
            lines = sorted(by_section.get(key, []), key=lambda ln: ln.when or utcnow(), reverse=True)
            if lines:
                result.append(SectionBlock(key, str(SECTION_TITLES[key]), lines[:per_section],
                                           more=sum(ln.count for ln in lines[per_section:])))
        return result

    if general:
        blocks.append(TavoloBlock(_("Aggiornamenti generali"), None, sections(general)))
    tavoli = sorted((ctx.subjects.tavoli[tid] for tid in grouped if tid in ctx.subjects.tavoli),
                    key=lambda t: (t.position, t.title))
    for tavolo in tavoli:
        blocks.append(TavoloBlock(tavolo.title, ctx.links.tavolo(tavolo), sections(grouped[tavolo.id])))
    return blocks, total


class DigestBatch:
    """The digests of a batch of recipients. What they talk about is loaded once for the whole batch
    (the subjects of every notification, who took part in which proposal, the moderation queues):
    the number of queries depends on the kinds of subjects, never on the number of recipients."""

    def __init__(self, users: Sequence[User], notifications: dict[int, Sequence[Notification]],
                 now: datetime | None = None):
        from consulta.digests.settings import setting

        self.users = users
        self.now = now or utcnow()
        self.links = Links(absolute=True)
        self.notifications = notifications
        lookback = self.now - timedelta(days=int(setting("DIGEST_LOOKBACK_DAYS")))
        self.recent = {user.id: [n for n in notifications.get(user.id, ()) if n.created_at >= lookback]
                       for user in users}
        self.subjects = Subjects([n for notes in self.recent.values() for n in notes])
        self.contributions = contributions([user.id for user in users], self.subjects.proposals)
        self.queues = moderation_queues(users, self.links)
        self.per_section = int(setting("DIGEST_LINES_PER_SECTION"))

    def digests(self) -> list[Digest]:
        """Everyone's digest for the current period of their frequency, leaving out the empty ones."""
        digests = (self.digest(user, user.digest_frequency, period_key(user.digest_frequency, self.now))
                   for user in self.users)
        return [digest for digest in digests if not digest.is_empty]

    def digest(self, user: User, frequency: str, key: str) -> Digest:
        """Group, fold and render `user`'s notifications in their language (no writes, no queries)."""
        from consulta.digests.tokens import make_unsubscribe_token

        links = self.links
        with force_locale(user.locale or "it"):
            ctx = Context(recipient=user, subjects=self.subjects, links=links,
                          known_contributions=self.contributions.get(user.id, set()))
            blocks, total = _blocks(ctx, self.recent[user.id], self.per_section)
            queue = self.queues.get(user.id, [])
            digest = Digest(recipient=user, frequency=frequency, period_key=key,
                            notification_ids=[n.id for n in self.notifications.get(user.id, ())], blocks=blocks,
                            queue=queue, total=total)
            if digest.is_empty:
                return digest
            unsubscribe_url = links.unsubscribe(make_unsubscribe_token(user))
            digest.subject = _subject(digest)
            context = {
                "digest": digest,
                "recipient": user,
                "unsubscribe_url": unsubscribe_url,
                "preferences_url": links.preferences(),
                "notifications_url": links.notifications(),
                "home_url": current_app.config["PUBLIC_BASE_URL"].rstrip("/") + "/",
                "site_title": _site_title(),
                "frequency_label": _("settimanale") if frequency == "weekly" else _("giornaliero"),
                "locale": user.locale or "it",
                "queue_total": sum(q.proposals + q.comments for q in queue),
            }
            # Rendered without the request's context processors: nothing here may depend on a request,
            # and a run of thousands of digests should not query the Ambito twice per message.
            jinja = current_app.jinja_env
            digest.text = jinja.get_template("digests/emails/digest.txt").render(**context)
            digest.html = jinja.get_template("digests/emails/digest.html").render(**context)
            digest.headers = {
                "List-Unsubscribe": f"<{unsubscribe_url}>, <mailto:{_unsubscribe_mailto()}?subject=unsubscribe>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            }
        return digest


def build_digest(user: User, frequency: str, key: str, notifications: Sequence[Notification],
                 now: datetime | None = None) -> Digest:
    """One person's digest (an admin's "send now"): a batch of one."""
    return DigestBatch([user], {user.id: notifications}, now).digest(user, frequency, key)


def _site_title() -> str:
    """The Ambito's name, read once per app context (a whole digest run)."""
    if "digest_site_title" not in g:
        from consulta.ambito.models import Ambito

        ambito = Ambito.current()
        g.digest_site_title = ambito.name if ambito is not None else "Consulta"
    return g.digest_site_title


def _subject(digest: Digest) -> str:
    queue = sum(q.proposals + q.comments for q in digest.queue)
    if digest.frequency == "weekly":
        head = _("Consulta, il tuo riepilogo settimanale")
    else:
        head = _("Consulta, il tuo riepilogo giornaliero")
    parts = []
    if digest.total:
        parts.append(ngettext("%(num)d aggiornamento", "%(num)d aggiornamenti", digest.total))
    if queue:
        parts.append(ngettext("%(num)d contributo da moderare", "%(num)d contributi da moderare", queue))
    return f"{head}: {', '.join(parts)}"


def _unsubscribe_mailto() -> str:
    from email.utils import parseaddr

    from consulta.digests.settings import setting

    configured = setting("DIGEST_UNSUBSCRIBE_MAILTO")
    if configured:
        return str(configured).removeprefix("mailto:")
    sender = current_app.config.get("MAIL_DEFAULT_SENDER") or "noreply@localhost"
    if isinstance(sender, tuple):
        sender = sender[1]
    return parseaddr(sender)[1] or "noreply@localhost"
