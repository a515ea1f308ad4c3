"""Operations of the meetings domain: each changes objects, applies a transition
table, writes audit events and notifications, and flushes. The view commits
once, and only then sends the convocation e-mails (see meetings/mail.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from consulta.core import audit, notify
from consulta.core.db import utcnow
from consulta.core.events import phrase_key
from consulta.core.states import TransitionError, lock
from consulta.core.text import clean_plain, render_markdown
from consulta.extensions import db
from consulta.meetings.canonical import content_hash
from consulta.meetings.models import (
    EXTERNAL_CATEGORY,
    MEETING_TRANSITIONS,
    MEMBER_TRANSITIONS,
    MINUTES_TRANSITIONS,
    OBJECTIVE_OUTCOMES,
    PROPOSAL_OUTCOME_LABELS,
    Attendance,
    AttendanceKind,
    Decision,
    Dissent,
    ImmutableMinutes,
    Meeting,
    MeetingStatus,
    MemberStatus,
    Method,
    Minutes,
    MinutesStatus,
    Outcome,
    TavoloMember,
    outcome_contradicts_counts,
    votes_cast,
)

# =========================================================================== membership


def _facilitator_ids(tavolo) -> list[int]:
    return [u.id for u in tavolo.facilitators]


def request_membership(tavolo, user, *, delegate, substitute=None) -> tuple[TavoloMember, str]:
    """The organisation `user` represents asks to sit at `tavolo` (or renames its delegates).

    Returns the seat and what happened: "requested", "requested_again" or "updated".
    """
    organisation = user.represented_organisation
    if organisation is None:
        raise TransitionError(_("Solo chi rappresenta un'organizzazione verificata può chiederne l'adesione."), 403)
    member = db.session.execute(
        select(TavoloMember).where(TavoloMember.tavolo_id == tavolo.id,
                                   TavoloMember.organisation_id == organisation.id)
    ).unique().scalar_one_or_none()
    delegates = {"delegate_id": delegate.id, "substitute_id": substitute.id if substitute else None}

    if member is not None and member.is_active_seat:
        before = {"delegate_id": member.delegate_id, "substitute_id": member.substitute_id}
        member.delegate_id, member.substitute_id = delegates["delegate_id"], delegates["substitute_id"]
        changes = {k: [before[k], v] for k, v in delegates.items() if before[k] != v}
        if changes:
            audit.record(user, "tavolo_member.update", member, changes, tavolo_id=tavolo.id)
        db.session.flush()
        return member, "updated"

    if member is None:
        member = TavoloMember(tavolo_id=tavolo.id, organisation_id=organisation.id, requested_by_id=user.id,
                              status=MemberStatus.requested.value, **delegates)
        db.session.add(member)
        db.session.flush()
        audit.record(user, "tavolo_member.request", member,
                     {"status": [None, member.status], **{k: [None, v] for k, v in delegates.items()}},
                     tavolo_id=tavolo.id)
        what = "requested"
    else:
        MEMBER_TRANSITIONS.apply(member, MemberStatus.requested, user, audit_changes={
            k: [getattr(member, k), v] for k, v in delegates.items()})
        member.delegate_id, member.substitute_id = delegates["delegate_id"], delegates["substitute_id"]
        member.requested_at = utcnow()
        member.requested_by_id = user.id
        member.rejection_reason = None
        member.decided_at = member.decided_by_id = None
        what = "requested_again"
    notify.emit(_facilitator_ids(tavolo), "tavolo_member.requested", member, tavolo_id=tavolo.id,
                data={"organisation": organisation.name, "tavolo": tavolo.title}, exclude=user)
    db.session.flush()
    return member, what


def _tell_member(member: TavoloMember, event: str, **data) -> None:
    people = [member.delegate_id, member.substitute_id, member.requested_by_id]
    notify.emit([p for p in people if p], event, member, tavolo_id=member.tavolo_id,
                data={"organisation": member.organisation.name, "tavolo": member.tavolo.title, **data})


def accept_member(member: TavoloMember, actor) -> None:
    MEMBER_TRANSITIONS.apply(member, MemberStatus.accepted, actor)
    member.decided_at = utcnow()
    member.decided_by_id = actor.id
    _tell_member(member, "tavolo_member.accepted")
    db.session.flush()


def reject_member(member: TavoloMember, actor, reason: str) -> None:
    reason = clean_plain(reason, multiline=True)
    MEMBER_TRANSITIONS.apply(member, MemberStatus.rejected, actor, reason=reason, context={"reason": reason})
    member.rejection_reason = reason
    member.decided_at = utcnow()
    member.decided_by_id = actor.id
    _tell_member(member, "tavolo_member.rejected", reason=reason)
    db.session.flush()


def leave_tavolo(member: TavoloMember, actor, reason: str | None = None) -> None:
    reason = clean_plain(reason, multiline=True) or None
    MEMBER_TRANSITIONS.apply(member, MemberStatus.left, actor, reason=reason)
    _tell_member(member, "tavolo_member.left", reason=reason)
    db.session.flush()


# =========================================================================== meetings


@dataclass
class MeetingFields:
    title: str
    starts_at: datetime
    ends_at: datetime | None
    place: str | None
    online_url: str | None
    agenda: str
    proposals: list
    objectives: list


def _tavolo_follower_ids(tavolo_id: int) -> list[int]:
    from consulta.tavoli.models import Follow

    return list(db.session.execute(select(Follow.user_id).where(Follow.tavolo_id == tavolo_id)).scalars())


def _meeting_data(meeting: Meeting) -> dict:
    return {"title": meeting.title, "tavolo": meeting.tavolo.title, "starts_at": meeting.starts_at.isoformat(),
            "place": meeting.place, "online_url": meeting.online_url}


def _set_meeting_fields(meeting: Meeting, fields: MeetingFields) -> None:
    meeting.title = clean_plain(fields.title)
    meeting.starts_at = fields.starts_at
    meeting.ends_at = fields.ends_at
    meeting.place = clean_plain(fields.place) or None
    meeting.online_url = (fields.online_url or "").strip() or None
    meeting.agenda = clean_plain(fields.agenda, multiline=True)
    meeting.agenda_html = render_markdown(fields.agenda)
    meeting.proposals = list(fields.proposals)
    meeting.objectives = list(fields.objectives)


def _check_subjects_of(tavolo, proposals, objectives) -> None:
    if any(p.tavolo_id != tavolo.id for p in proposals) or any(o.tavolo_id != tavolo.id for o in objectives):
        raise TransitionError(_("Si possono collegare solo proposte e obiettivi di questo tavolo."), 400)


def _new_meeting(tavolo, actor, fields: MeetingFields, status: MeetingStatus, action: str) -> Meeting:
    _check_subjects_of(tavolo, fields.proposals, fields.objectives)
    meeting = Meeting(tavolo_id=tavolo.id, tavolo=tavolo, created_by_id=actor.id, status=status.value, sequence=0)
    _set_meeting_fields(meeting, fields)
    db.session.add(meeting)
    db.session.flush()
    audit.record(actor, action, meeting, {
        "starts_at": [None, meeting.starts_at.isoformat()], "place": [None, meeting.place],
        "online_url": [None, meeting.online_url], "status": [None, meeting.status],
    })
    return meeting


def schedule_meeting(tavolo, actor, fields: MeetingFields) -> Meeting:
    """Convene a meeting; the view sends the convocations after its commit."""
    if fields.starts_at <= utcnow():
        raise TransitionError(_("La data e l'ora dell'incontro sono già passate: indica un momento futuro."), 400,
                              field="day")
    meeting = _new_meeting(tavolo, actor, fields, MeetingStatus.scheduled, "meeting.schedule")
    notify.emit(_tavolo_follower_ids(tavolo.id), "meeting.scheduled", meeting, data=_meeting_data(meeting),
                exclude=actor)
    db.session.flush()
    return meeting


def record_held_meeting(tavolo, actor, fields: MeetingFields) -> Meeting:
    """Record a meeting that already took place elsewhere (on paper, before Consulta, in another office):
    it is born held, nobody is convened, and its minutes can be written at once."""
    if fields.starts_at > utcnow():
        raise TransitionError(_("Questo incontro non si è ancora svolto: per un incontro futuro usa «Convoca un "
                                "incontro»."), 400, field="day")
    return _new_meeting(tavolo, actor, fields, MeetingStatus.held, "meeting.record_held")


def update_meeting(meeting: Meeting, actor, fields: MeetingFields) -> dict:
    """Change a convened meeting. Returns the changes; when time or place changed the
    view sends the updated convocation (same UID, higher SEQUENCE)."""
    if meeting.status != MeetingStatus.scheduled:
        raise TransitionError(_("Si possono modificare solo gli incontri convocati, non quelli svolti o annullati."))
    if fields.starts_at != meeting.starts_at and fields.starts_at <= utcnow():
        raise TransitionError(_("La data e l'ora dell'incontro sono già passate: indica un momento futuro."), 400,
                              field="day")
    _check_subjects_of(meeting.tavolo, fields.proposals, fields.objectives)
    watched = ("title", "starts_at", "ends_at", "place", "online_url", "agenda")
    before = {k: getattr(meeting, k) for k in watched}
    _set_meeting_fields(meeting, fields)
    changes = {k: [_plain(before[k]), _plain(getattr(meeting, k))] for k in watched
               if before[k] != getattr(meeting, k)}
    if changes:
        meeting.sequence += 1
        audit.record(actor, "meeting.update", meeting, changes)
        if {"starts_at", "ends_at", "place", "online_url"} & changes.keys():
            notify.emit(_tavolo_follower_ids(meeting.tavolo_id), "meeting.updated", meeting,
                        data=_meeting_data(meeting), exclude=actor)
    db.session.flush()
    return changes


def _plain(value):
    return value.isoformat() if isinstance(value, datetime) else value


def cancel_meeting(meeting: Meeting, actor, reason: str) -> None:
    reason = clean_plain(reason, multiline=True)
    MEETING_TRANSITIONS.apply(meeting, MeetingStatus.cancelled, actor, reason=reason, context={"reason": reason})
    meeting.cancel_reason = reason
    meeting.sequence += 1
    notify.emit(_tavolo_follower_ids(meeting.tavolo_id), "meeting.cancelled", meeting,
                data={**_meeting_data(meeting), "reason": reason}, exclude=actor)
    db.session.flush()


def mark_meeting_held(meeting: Meeting, actor) -> None:
    MEETING_TRANSITIONS.apply(meeting, MeetingStatus.held, actor, context={"now": utcnow()})
    db.session.flush()


# =========================================================================== minutes

_LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")


def agenda_items_from(agenda: str) -> str:
    """The meeting's agenda as one item per line, without Markdown list markers."""
    lines = (_LIST_MARKER.sub("", line).strip() for line in (agenda or "").splitlines())
    return "\n".join(line for line in lines if line)


def ensure_draft(minutes: Minutes) -> None:
    """Lock the verbale for this transaction and refuse unless it is still a draft: an edit and an
    approval (or two approvals) that race are serialised, and the second finds it approved (409)."""
    lock(minutes)
    if minutes.status != MinutesStatus.draft:
        raise ImmutableMinutes()


def start_minutes(meeting: Meeting, actor, *, tavolo) -> Minutes:
    """Open the draft verbale of a meeting that took place."""
    if meeting.tavolo_id != tavolo.id:
        raise TransitionError(_("L'incontro scelto non appartiene a questo tavolo."), 400)
    lock(meeting)  # two facilitators opening the verbale at once: the second finds the first's
    if meeting.status == MeetingStatus.cancelled:
        raise TransitionError(_("L'incontro è stato annullato: non ha un verbale."))
    if meeting.status == MeetingStatus.scheduled:
        if not meeting.has_started():
            raise TransitionError(_("L'incontro non si è ancora svolto: il verbale si scrive dopo l'incontro."))
        mark_meeting_held(meeting, actor)
    existing = db.session.execute(
        select(Minutes.id).where(Minutes.meeting_id == meeting.id, Minutes.corrects_id.is_(None))
    ).scalar_one_or_none()
    if existing is not None:
        raise TransitionError(_("Questo incontro ha già un verbale: aprilo dalla pagina dell'incontro."))
    minutes = Minutes(meeting_id=meeting.id, meeting=meeting, tavolo_id=meeting.tavolo_id,
                      status=MinutesStatus.draft.value, agenda_items=agenda_items_from(meeting.agenda),
                      quorum_required=meeting.tavolo.quorum, members_present=0,
                      quorum_reached=False if meeting.tavolo.quorum else None, created_by_id=actor.id)
    db.session.add(minutes)
    db.session.flush()
    audit.record(actor, "minutes.create", minutes, {"meeting_id": [None, meeting.id]})
    return minutes


def update_minutes_text(minutes: Minutes, actor, *, agenda_items: str, text: str) -> bool:
    ensure_draft(minutes)
    agenda_items = clean_plain(agenda_items, multiline=True)
    text = clean_plain(text, multiline=True)
    changed = (agenda_items, text) != (minutes.agenda_items, minutes.text)
    if changed:
        audit.record(actor, "minutes.edit", minutes, {
            "agenda_items_changed": agenda_items != minutes.agenda_items, "text_changed": text != minutes.text})
        minutes.agenda_items = agenda_items
        minutes.text = text
        minutes.text_html = render_markdown(text)
    db.session.flush()
    return changed


def refresh_quorum(minutes: Minutes) -> None:
    """Count the member organisations present and compare with the tavolo's quorum."""
    present = sum(1 for a in minutes.attendance if a.kind == AttendanceKind.member)
    minutes.members_present = present
    minutes.quorum_required = minutes.tavolo.quorum
    minutes.quorum_reached = None if minutes.quorum_required is None else present >= minutes.quorum_required


def set_member_attendance(minutes: Minutes, actor, presence: dict[int, str], members: list[TavoloMember]) -> None:
    """Replace the member-organisation attendance: presence maps member id -> delegate | substitute | absent."""
    ensure_draft(minutes)
    by_id = {m.id: m for m in members}
    if any(member_id not in by_id for member_id in presence):
        raise TransitionError(_("Una delle organizzazioni indicate non è aderente a questo tavolo."), 400)
    for row in [a for a in minutes.attendance if a.kind == AttendanceKind.member]:
        minutes.attendance.remove(row)
    db.session.flush()
    for member_id, how in presence.items():
        if how == "absent":
            continue
        member = by_id[member_id]
        person = member.delegate if how == "delegate" else member.substitute
        if person is None:
            message = (_("L'organizzazione «%(name)s» non ha indicato un sostituto.", name=member.organisation.name)
                       if how == "substitute" else
                       _("L'organizzazione «%(name)s» non ha un delegato.", name=member.organisation.name))
            raise TransitionError(message, 400)
        if any(a.user_id == person.id for a in minutes.attendance):
            raise TransitionError(_("%(name)s è già tra gli altri presenti: toglilo da lì prima di registrarlo "
                                    "per «%(organisation)s».", name=person.display_name,
                                    organisation=member.organisation.name), 400)
        minutes.attendance.append(Attendance(
            kind=AttendanceKind.member.value, organisation_id=member.organisation_id,
            organisation_name=member.organisation.name, category=member.organisation.type,
            attended_as=how, user_id=person.id, name=person.display_name,
        ))
    refresh_quorum(minutes)
    audit.record(actor, "minutes.attendance", minutes, {
        "members_present": minutes.members_present, "quorum_reached": minutes.quorum_reached})
    db.session.flush()


def add_participant(minutes: Minutes, actor, user) -> Attendance:
    ensure_draft(minutes)
    if any(a.user_id == user.id for a in minutes.attendance):
        raise TransitionError(_("%(name)s è già tra i presenti.", name=user.display_name), 400)
    organisation = user.represented_organisation
    row = Attendance(
        kind=AttendanceKind.participant.value, user_id=user.id, name=user.display_name,
        organisation_id=organisation.id if organisation else None,
        organisation_name=organisation.name if organisation else None,
        category=organisation.type if organisation else "citizen",
    )
    minutes.attendance.append(row)
    db.session.flush()
    return row


def add_external(minutes: Minutes, actor, *, name: str, role: str) -> Attendance:
    ensure_draft(minutes)
    row = Attendance(kind=AttendanceKind.external.value, name=clean_plain(name), role=clean_plain(role) or None,
                     category=EXTERNAL_CATEGORY)
    minutes.attendance.append(row)
    db.session.flush()
    return row


def remove_attendance(minutes: Minutes, actor, row: Attendance) -> None:
    ensure_draft(minutes)
    minutes.attendance.remove(row)
    db.session.flush()
    refresh_quorum(minutes)
    db.session.flush()


@dataclass
class DecisionFields:
    proposal: object | None
    objective: object | None
    outcome: str
    method: str
    votes_for: int | None
    votes_against: int | None
    votes_abstained: int | None
    motivation: str
    dissents: dict[int, str]  # organisation id -> text
    # Why the outcome stands although the counts say otherwise; required exactly in that case.
    outcome_note: str | None = None


def check_counts(minutes: Minutes, fields: DecisionFields) -> str | None:
    """Minutes sanity: the votes cast fit the member organisations present, and an outcome that
    contradicts the counts carries an explicit motivation. Returns the note to store (or None)."""
    if fields.method != Method.vote:
        return None
    cast = votes_cast(fields.votes_for, fields.votes_against, fields.votes_abstained)
    if cast > minutes.members_present:
        raise TransitionError(_("Favorevoli, contrari e astenuti sono %(cast)d, ma i membri presenti con diritto di "
                                "voto sono %(present)d.", cast=cast, present=minutes.members_present), 400)
    if not outcome_contradicts_counts(fields.outcome, fields.votes_for, fields.votes_against):
        return None
    note = clean_plain(fields.outcome_note or "", multiline=True)
    if not note:
        raise TransitionError(_("L'esito non corrisponde ai voti: confermalo e spiega il motivo."), 400)
    return note


def _check_decision_subject(minutes: Minutes, fields: DecisionFields, decision: Decision | None) -> None:
    subject = fields.proposal or fields.objective
    if subject is None or (fields.proposal is not None and fields.objective is not None):
        raise TransitionError(_("Scegli una proposta o un obiettivo."), 400)
    if subject.tavolo_id != minutes.tavolo_id:
        raise TransitionError(_("Si possono decidere solo proposte e obiettivi di questo tavolo."), 400)
    if fields.objective is not None and fields.outcome not in OBJECTIVE_OUTCOMES:
        raise TransitionError(_("Un obiettivo si approva, non si approva o si rinvia: non può essere accolto "
                                "in parte."), 400)
    for other in minutes.decisions:
        if other is decision:
            continue
        if (fields.proposal is not None and other.proposal_id == fields.proposal.id) or (
                fields.objective is not None and other.objective_id == fields.objective.id):
            raise TransitionError(_("Il verbale contiene già una decisione su «%(title)s».",
                                    title=other.subject_title), 400)


def save_decision(minutes: Minutes, actor, fields: DecisionFields, decision: Decision | None = None,
                  *, organisations: dict[int, object]) -> Decision:
    """Add a decision to a draft verbale, or change one. `organisations` are those that may dissent."""
    ensure_draft(minutes)
    _check_decision_subject(minutes, fields, decision)
    outcome_note = check_counts(minutes, fields)
    if decision is None:
        decision = Decision()
        minutes.decisions.append(decision)
    subject = fields.proposal or fields.objective
    decision.proposal_id = fields.proposal.id if fields.proposal is not None else None
    decision.objective_id = fields.objective.id if fields.objective is not None else None
    decision.subject_title = subject.title
    decision.outcome = fields.outcome
    decision.method = fields.method
    counted = fields.method == Method.vote
    decision.votes_for = fields.votes_for if counted else None
    decision.votes_against = fields.votes_against if counted else None
    decision.votes_abstained = fields.votes_abstained if counted else None
    decision.outcome_note = outcome_note
    decision.motivation = clean_plain(fields.motivation, multiline=True)
    decision.motivation_html = render_markdown(fields.motivation)
    wanted = {org_id: clean_plain(text, multiline=True) for org_id, text in fields.dissents.items()
              if clean_plain(text, multiline=True)}
    if any(org_id not in organisations for org_id in wanted):
        raise TransitionError(_("Una posizione dissenziente si registra solo per un'organizzazione presente."), 400)
    for dissent in list(decision.dissents):
        if dissent.organisation_id not in wanted:
            decision.dissents.remove(dissent)
    existing = {d.organisation_id: d for d in decision.dissents}
    for org_id, text in wanted.items():
        if org_id in existing:
            existing[org_id].text = text
        else:
            organisation = organisations[org_id]
            decision.dissents.append(Dissent(organisation_id=org_id, organisation_name=organisation.name,
                                             category=organisation.type, text=text))
    db.session.flush()
    return decision


def delete_decision(minutes: Minutes, actor, decision: Decision) -> None:
    ensure_draft(minutes)
    minutes.decisions.remove(decision)
    db.session.flush()


def delete_minutes(minutes: Minutes, actor) -> None:
    """Throw away a draft verbale (an approved one is a permanent record)."""
    ensure_draft(minutes)
    audit.record(actor, "minutes.delete", minutes, {"meeting_id": [minutes.meeting_id, None]})
    db.session.delete(minutes)
    db.session.flush()


def create_rettifica(original: Minutes, actor) -> Minutes:
    """A new draft that corrects approved minutes: it starts as a copy of them."""
    lock(original)  # two rettifiche started at once: the second finds the first's
    if original.status != MinutesStatus.approved:
        raise TransitionError(_("Si può rettificare solo un verbale approvato: questo è ancora una bozza e si "
                                "può modificare direttamente."))
    existing = db.session.execute(select(Minutes.id).where(Minutes.corrects_id == original.id)).scalar_one_or_none()
    if existing is not None:
        raise TransitionError(_("Questo verbale ha già una rettifica: correggi quella."))
    copy = Minutes(
        meeting_id=original.meeting_id, tavolo_id=original.tavolo_id, corrects_id=original.id,
        status=MinutesStatus.draft.value, agenda_items=original.agenda_items, text=original.text,
        text_html=original.text_html, quorum_required=original.quorum_required,
        members_present=original.members_present, quorum_reached=original.quorum_reached, created_by_id=actor.id,
    )
    for a in original.attendance:
        copy.attendance.append(Attendance(
            kind=a.kind, organisation_id=a.organisation_id, organisation_name=a.organisation_name,
            category=a.category, attended_as=a.attended_as, user_id=a.user_id, name=a.name, role=a.role))
    for d in original.decisions:
        copy.decisions.append(Decision(
            proposal_id=d.proposal_id, objective_id=d.objective_id, subject_title=d.subject_title,
            outcome=d.outcome, method=d.method, votes_for=d.votes_for, votes_against=d.votes_against,
            votes_abstained=d.votes_abstained, motivation=d.motivation, motivation_html=d.motivation_html,
            outcome_note=d.outcome_note,
            dissents=[Dissent(organisation_id=x.organisation_id, organisation_name=x.organisation_name,
                              category=x.category, text=x.text) for x in d.dissents],
        ))
    db.session.add(copy)
    db.session.flush()
    audit.record(actor, "minutes.rectify", copy, {"corrects_id": [None, original.id]})
    return copy


# --------------------------------------------------------------------------- approval

def _proposal_plan(decision: Decision) -> list[str]:
    """The proposal states a decision walks through; [] when it only confirms. Refuses what cannot be done."""
    from consulta.proposals.models import PROPOSAL_TRANSITIONS, STATE_LABELS, ProposalState

    proposal = decision.proposal
    target = decision.outcome
    if proposal.state == target:
        return []
    if proposal.state in (ProposalState.submitted, ProposalState.withdrawn, ProposalState.merged):
        raise TransitionError(_("La proposta «%(title)s» è «%(state)s»: non si può decidere nel verbale.",
                                title=proposal.title, state=str(STATE_LABELS[proposal.state]).lower()))
    path: list[str] = []
    source = proposal.state
    if proposal.state == ProposalState.published and PROPOSAL_TRANSITIONS.find(source, target) is None:
        # No direct move: the verbale takes the proposal through evaluation first.
        path, source = [ProposalState.under_review.value], ProposalState.under_review.value
    if PROPOSAL_TRANSITIONS.find(source, target) is None:
        raise TransitionError(_(
            "La proposta «%(title)s» ha già la risposta «%(state)s»: la decisione «%(outcome)s» richiede un "
            "passaggio di stato (%(source)s → %(target)s) che non è ancora previsto.",
            title=proposal.title, state=str(STATE_LABELS[proposal.state]).lower(),
            outcome=str(PROPOSAL_OUTCOME_LABELS[target]).lower(), source=source, target=target))
    return [*path, target]


def _objective_target(decision: Decision) -> str | None:
    from consulta.tavoli.models import OBJECTIVE_STATUS_LABELS, OBJECTIVE_TRANSITIONS

    objective = decision.objective
    target = {"approved": "approved", "rejected": "dropped"}[decision.outcome]
    if objective.status == target:
        return None
    if OBJECTIVE_TRANSITIONS.find(objective.status, target) is None or objective.status == "draft":
        raise TransitionError(_(
            "L'obiettivo «%(title)s» è «%(state)s»: la decisione del verbale non si può applicare.",
            title=objective.title, state=str(OBJECTIVE_STATUS_LABELS[objective.status]).lower()))
    return target


def _apply_decisions(minutes: Minutes, actor, now: datetime) -> list[dict]:
    from consulta.proposals.models import PROPOSAL_TRANSITIONS
    from consulta.tavoli.models import OBJECTIVE_TRANSITIONS

    # Check every decision first, so a refusal names the problem before anything moves.
    plans: list[tuple[Decision, list[str] | str | None]] = []
    for decision in minutes.decisions:
        subject = decision.proposal or decision.objective
        if subject is None or subject.tavolo_id != minutes.tavolo_id:
            raise TransitionError(_("Si possono decidere solo proposte e obiettivi di questo tavolo."), 400)
        if decision.outcome == Outcome.deferred:
            plans.append((decision, None))
        elif decision.proposal is not None:
            plans.append((decision, _proposal_plan(decision)))
        else:
            plans.append((decision, _objective_target(decision)))

    link = {"minutes_id": minutes.id, "decision_id": None}
    why = phrase_key("minutes.decision", minutes.id)  # said in the reader's language (AuditEvent.reason_text)
    applied = []
    for decision, plan in plans:
        link["decision_id"] = decision.id
        if decision.proposal is not None and plan:
            proposal = decision.proposal
            for step in plan:
                if step == "under_review":
                    PROPOSAL_TRANSITIONS.apply(proposal, step, actor, reason_key=why, audit_changes=dict(link))
                    continue
                proposal.answer = decision.motivation
                proposal.answer_html = decision.motivation_html
                proposal.answered_by_id = actor.id
                proposal.answered_at = now
                PROPOSAL_TRANSITIONS.apply(proposal, step, actor, reason_key=why,
                                           context={"answer": decision.motivation}, audit_changes=dict(link))
        elif decision.objective is not None and plan:
            OBJECTIVE_TRANSITIONS.apply(decision.objective, plan, actor, reason_key=why, audit_changes=dict(link))
        elif decision.outcome != Outcome.deferred:
            # Already in the decided state (e.g. answered by a facilitator): the verbale confirms it.
            audit.record(actor, "minutes.decision_confirmed", decision.proposal or decision.objective,
                         {"outcome": decision.outcome, **link}, reason_key=why, tavolo_id=minutes.tavolo_id)
        applied.append({
            "subject_type": decision.subject_type, "subject_id": decision.subject_id,
            "title": decision.subject_title, "outcome": decision.outcome, "outcome_label": decision.outcome_label,
        })
    return applied


def approve_minutes(minutes: Minutes, actor) -> list[dict]:
    """Freeze the verbale, seal it with its SHA-256 and apply its decisions, in one transaction."""
    from consulta.proposals.models import Proposal
    from consulta.tavoli.models import Follow

    ensure_draft(minutes)
    refresh_quorum(minutes)
    db.session.flush()  # every pending change to the content reaches the database before it is sealed
    now = utcnow().replace(microsecond=0)
    minutes.approved_at = now
    minutes.approved_by_id = actor.id
    minutes.approved_by_name = actor.display_name
    with db.session.no_autoflush:
        minutes.content_hash = content_hash(minutes)
    MINUTES_TRANSITIONS.apply(minutes, MinutesStatus.approved, actor, context={"attendance": len(minutes.attendance)},
                              audit_changes={"content_hash": minutes.content_hash, "corrects_id": minutes.corrects_id})
    applied = _apply_decisions(minutes, actor, now)
    db.session.flush()

    proposal_ids = [d.proposal_id for d in minutes.decisions if d.proposal_id is not None]
    recipients = set(_tavolo_follower_ids(minutes.tavolo_id))
    if proposal_ids:
        recipients.update(db.session.execute(
            select(Proposal.author_id).where(Proposal.id.in_(proposal_ids), Proposal.author_id.is_not(None))
        ).scalars())
        recipients.update(db.session.execute(
            select(Follow.user_id).where(Follow.proposal_id.in_(proposal_ids))).scalars())
    meeting = minutes.meeting
    notify.emit(sorted(recipients), "minutes.approved", minutes, tavolo_id=minutes.tavolo_id, data={
        "meeting": meeting.title, "meeting_starts_at": meeting.starts_at.isoformat(),
        "tavolo": minutes.tavolo.title, "corrects_id": minutes.corrects_id,
        "content_hash": minutes.content_hash, "decisions": applied,
    }, exclude=actor)
    db.session.flush()
    return applied
