"""Read-side helpers of the meetings domain, also used by other domains' pages: member_organisations(tavolo)
and tavolo_meetings(tavolo, user) by the tavolo page's view, decision_for(proposal) by the proposal page's.
Each costs a fixed number of queries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager, joinedload, lazyload, load_only, selectinload

from consulta.core.db import utcnow
from consulta.extensions import db
from consulta.meetings.models import (
    EXTERNAL_CATEGORY,
    EXTERNAL_CATEGORY_LABEL,
    Attendance,
    Decision,
    Meeting,
    MeetingStatus,
    MemberStatus,
    Minutes,
    MinutesStatus,
    TavoloMember,
)

UPCOMING_SHOWN = 3
PAST_SHOWN = 3
# A meeting stays "upcoming" for a few hours after it starts (it is going on).
ONGOING_WINDOW = timedelta(hours=4)


def category_order() -> list[str]:
    from consulta.organisations.models import CATEGORIES

    return [*CATEGORIES, EXTERNAL_CATEGORY]


def category_label(key: str) -> str:
    from consulta.organisations.models import CATEGORY_LABELS

    if key == EXTERNAL_CATEGORY:
        return str(EXTERNAL_CATEGORY_LABEL)
    return str(CATEGORY_LABELS.get(key, key))


@dataclass
class CategoryGroup:
    key: str
    label: str
    items: list = field(default_factory=list)


def group_by_category(items, key=lambda item: item.category) -> list[CategoryGroup]:
    """Items grouped by stakeholder category, categories in their usual order."""
    order = category_order()
    groups: dict[str, CategoryGroup] = {}
    for item in items:
        k = key(item)
        groups.setdefault(k, CategoryGroup(k, category_label(k))).items.append(item)
    return sorted(groups.values(), key=lambda g: order.index(g.key) if g.key in order else len(order))


# --------------------------------------------------------------------------- membership

def accepted_members(tavolo_id: int) -> list[TavoloMember]:
    from consulta.organisations.models import Organisation

    return list(db.session.execute(
        select(TavoloMember).join(TavoloMember.organisation)
        .where(TavoloMember.tavolo_id == tavolo_id, TavoloMember.status == MemberStatus.accepted)
        .options(contains_eager(TavoloMember.organisation))
        .order_by(Organisation.name, TavoloMember.id)
    ).unique().scalars())


def tavolo_members(tavolo) -> list[CategoryGroup]:
    """The accepted member organisations of `tavolo`, grouped by stakeholder category."""
    return group_by_category(accepted_members(tavolo.id), key=lambda m: m.organisation.type)


def member_organisations(tavolo) -> list[CategoryGroup]:
    """The names of `tavolo`'s accepted member organisations, grouped by stakeholder category (the tavolo
    page's panel: not their delegates, nor their comuni)."""
    from consulta.organisations.models import Organisation

    organisations = db.session.execute(
        select(Organisation).join(TavoloMember, TavoloMember.organisation_id == Organisation.id)
        .where(TavoloMember.tavolo_id == tavolo.id, TavoloMember.status == MemberStatus.accepted)
        .options(load_only(Organisation.name, Organisation.type), lazyload(Organisation.comune))
        .order_by(Organisation.name, TavoloMember.id)
    ).scalars().all()
    return group_by_category(organisations, key=lambda organisation: organisation.type)


def pending_members(tavolo_id: int) -> list[TavoloMember]:
    return list(db.session.execute(
        select(TavoloMember).where(TavoloMember.tavolo_id == tavolo_id,
                                   TavoloMember.status == MemberStatus.requested)
        .order_by(TavoloMember.requested_at, TavoloMember.id)
    ).unique().scalars())


def member_of(tavolo_id: int, organisation_id: int | None) -> TavoloMember | None:
    if organisation_id is None:
        return None
    return db.session.execute(
        select(TavoloMember).where(TavoloMember.tavolo_id == tavolo_id,
                                   TavoloMember.organisation_id == organisation_id)
    ).unique().scalar_one_or_none()


def organisation_people(organisation_id: int):
    """Users with an active membership of the organisation: who may be named delegate or substitute."""
    from consulta.accounts.models import User
    from consulta.organisations.models import Membership, MembershipStatus

    return list(db.session.execute(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == organisation_id, Membership.status == MembershipStatus.active,
               User.blocked_at.is_(None), User.email_verified_at.is_not(None))
        .order_by(User.display_name, User.id)
    ).unique().scalars())


# --------------------------------------------------------------------------- meetings

@dataclass
class TavoloMeetings:
    upcoming: list[Meeting]
    past: list[Meeting]
    total: int
    minutes_of: dict[int, int]  # meeting id -> id of its latest approved verbale
    can_schedule: bool


def approved_minutes_ids(meeting_ids: list[int]) -> dict[int, int]:
    """For each meeting, the id of its most recent approved verbale (a rettifica supersedes the original)."""
    if not meeting_ids:
        return {}
    rows = db.session.execute(
        select(Minutes.meeting_id, Minutes.id)
        .where(Minutes.meeting_id.in_(meeting_ids), Minutes.status == MinutesStatus.approved)
        .order_by(Minutes.meeting_id, Minutes.approved_at, Minutes.id)
    ).all()
    return {meeting_id: minutes_id for meeting_id, minutes_id in rows}


def tavolo_meetings(tavolo, user) -> TavoloMeetings:
    """The next and the latest meetings of `tavolo` for its page, with how many it has in all and
    the latest approved verbale of each shown: one statement."""
    now = utcnow()
    upcoming = (select(Meeting.id)
                .where(Meeting.tavolo_id == tavolo.id, Meeting.status == MeetingStatus.scheduled,
                       Meeting.starts_at >= now - ONGOING_WINDOW)
                .order_by(Meeting.starts_at, Meeting.id).limit(UPCOMING_SHOWN))
    past = (select(Meeting.id)
            .where(Meeting.tavolo_id == tavolo.id, Meeting.id.not_in(upcoming), Meeting.starts_at < now)
            .order_by(Meeting.starts_at.desc(), Meeting.id.desc()).limit(PAST_SHOWN))
    total = select(func.count()).select_from(Meeting).where(Meeting.tavolo_id == tavolo.id).scalar_subquery()
    latest_minutes = (select(Minutes.id)
                      .where(Minutes.meeting_id == Meeting.id, Minutes.status == MinutesStatus.approved)
                      .order_by(Minutes.approved_at.desc(), Minutes.id.desc()).limit(1)
                      .correlate(Meeting).scalar_subquery())
    rows = db.session.execute(
        select(Meeting, Meeting.id.in_(upcoming), latest_minutes, total)
        .where(or_(Meeting.id.in_(upcoming), Meeting.id.in_(past)))
        .order_by(Meeting.starts_at, Meeting.id)
    ).all()
    shown = TavoloMeetings(upcoming=[], past=[], total=rows[0][3] if rows else 0, minutes_of={},
                           can_schedule=Meeting.can_schedule(tavolo, user))
    for meeting, is_upcoming, minutes_id, _total in rows:
        (shown.upcoming if is_upcoming else shown.past).append(meeting)
        if minutes_id is not None:
            shown.minutes_of[meeting.id] = minutes_id
    shown.past.reverse()
    return shown


@dataclass
class MeetingsAtAGlance:
    """For the facilitator's dashboard: what comes next and what waits to be approved."""

    next_meeting: Meeting | None = None
    draft_minutes: int = 0


def meetings_at_a_glance(tavolo_ids: Iterable[int]) -> dict[int, MeetingsAtAGlance]:
    """Per tavolo, its next convened meeting and its minutes still in draft (two queries)."""
    ids = sorted({int(i) for i in tavolo_ids})
    glance = {tavolo_id: MeetingsAtAGlance() for tavolo_id in ids}
    if not ids:
        return glance
    for meeting in db.session.execute(
        select(Meeting).where(Meeting.tavolo_id.in_(ids), Meeting.status == MeetingStatus.scheduled,
                              Meeting.starts_at >= utcnow() - ONGOING_WINDOW)
        .order_by(Meeting.starts_at.desc(), Meeting.id.desc())
    ).scalars():
        glance[meeting.tavolo_id].next_meeting = meeting  # the earliest wins: rows come latest first
    for tavolo_id, count in db.session.execute(
        select(Minutes.tavolo_id, func.count()).where(Minutes.tavolo_id.in_(ids), Minutes.status == "draft")
        .group_by(Minutes.tavolo_id)
    ):
        glance[tavolo_id].draft_minutes = count
    return glance


def meeting_minutes(meeting_id: int) -> list[Minutes]:
    """Every verbale of a meeting (original and rettifiche), oldest first."""
    return list(db.session.execute(
        select(Minutes).where(Minutes.meeting_id == meeting_id).order_by(Minutes.created_at, Minutes.id)
    ).scalars())


# --------------------------------------------------------------------------- minutes

def load_minutes_for_page(minutes_id) -> Minutes | None:
    """A verbale with everything its pages and exports show, in a fixed number of queries."""
    from consulta.core.views import load_or_404
    from consulta.tavoli.models import Tavolo

    return load_or_404(
        Minutes, minutes_id,
        joinedload(Minutes.meeting),
        joinedload(Minutes.tavolo).selectinload(Tavolo.facilitators),
        selectinload(Minutes.attendance),
        selectinload(Minutes.decisions).selectinload(Decision.dissents),
        selectinload(Minutes.decisions).joinedload(Decision.proposal),
        selectinload(Minutes.decisions).joinedload(Decision.objective),
    )


def attendance_groups(minutes: Minutes) -> list[CategoryGroup]:
    def order(a: Attendance):
        return ({"member": 0, "participant": 1, "external": 2}[a.kind], a.organisation_name or "", a.name)

    return group_by_category(sorted(minutes.attendance, key=order))


def correction_of(minutes: Minutes) -> Minutes | None:
    """The rettifica of `minutes`, if one exists (draft or approved)."""
    return db.session.execute(select(Minutes).where(Minutes.corrects_id == minutes.id)).scalar_one_or_none()


def decision_for(proposal) -> Decision | None:
    """The decision of approved minutes that settled `proposal` most recently (a rettifica's wins)."""
    if proposal is None or getattr(proposal, "id", None) is None:
        return None
    return db.session.execute(
        select(Decision).join(Decision.minutes)
        .where(Decision.proposal_id == proposal.id, Minutes.status == MinutesStatus.approved)
        .options(contains_eager(Decision.minutes).joinedload(Minutes.meeting))
        .order_by(Minutes.approved_at.desc(), Minutes.id.desc()).limit(1)
    ).unique().scalar_one_or_none()


def decision_for_objective(objective) -> Decision | None:
    if objective is None or getattr(objective, "id", None) is None:
        return None
    return db.session.execute(
        select(Decision).join(Decision.minutes)
        .where(Decision.objective_id == objective.id, Minutes.status == MinutesStatus.approved)
        .options(contains_eager(Decision.minutes).joinedload(Minutes.meeting))
        .order_by(Minutes.approved_at.desc(), Minutes.id.desc()).limit(1)
    ).unique().scalar_one_or_none()
