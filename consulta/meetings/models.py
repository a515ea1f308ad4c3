"""Tavolo membership, meetings and their minutes (verbali).

Approved minutes are a public act: once approved, neither the application nor
the database accepts a change to them. Two guards enforce it:

* `_refuse_changes_to_approved_minutes`, a `before_flush` listener, refuses in
  the ORM (with a 409 the error handler turns into an Italian page);
* triggers created with the tables (`after_create`) refuse UPDATE and DELETE of
  approved minutes and any INSERT/UPDATE/DELETE of their attendance, decisions
  and dissents, on SQLite and on PostgreSQL alike. The same SQL is in
  `trigger_statements()` for the Alembic migration.

Links to users and organisations (`*_id` with ON DELETE SET NULL) are not part of
the record: the record keeps snapshots of names and categories, so deleting an
account later never has to touch approved minutes' content.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from flask import has_request_context
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    DDL,
    CheckConstraint,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    inspect,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from consulta.core.db import enum_check, enum_column, utcnow
from consulta.core.permissions import facilitates, is_active_participant
from consulta.core.states import Transition, TransitionError, TransitionTable
from consulta.extensions import db

if TYPE_CHECKING:
    from consulta.accounts.models import User
    from consulta.organisations.models import Organisation
    from consulta.proposals.models import Proposal
    from consulta.tavoli.models import Objective, Tavolo


# =========================================================================== membership

class MemberStatus(StrEnum):
    requested = "requested"
    accepted = "accepted"
    rejected = "rejected"
    left = "left"


MEMBER_STATUS_LABELS = {
    "requested": _l("In attesa di conferma"),
    "accepted": _l("Aderente"),
    "rejected": _l("Adesione non accolta"),
    "left": _l("Uscita dal tavolo"),
}


def _represents(member, user) -> bool:
    """`user` is an active representative of the member organisation."""
    if not is_active_participant(user):
        return False
    organisation = user.represented_organisation
    return organisation is not None and organisation.id == member.organisation_id


def _member_facilitator(member, user) -> bool:
    return facilitates(user, member.tavolo)


def _needs_reason(message: str):
    return lambda obj, ctx: None if (ctx.get("reason") or "").strip() else message


MEMBER_TRANSITIONS = TransitionTable("status", [
    Transition(MemberStatus.requested, MemberStatus.accepted, allowed=_member_facilitator,
               action="tavolo_member.accept"),
    Transition(MemberStatus.requested, MemberStatus.rejected, allowed=_member_facilitator,
               action="tavolo_member.reject",
               requires=_needs_reason("Indica il motivo per cui l'adesione non è accolta.")),
    Transition(MemberStatus.requested, MemberStatus.left, allowed=_represents, action="tavolo_member.withdraw"),
    Transition(MemberStatus.accepted, MemberStatus.left,
               allowed=lambda m, u: _represents(m, u) or _member_facilitator(m, u), action="tavolo_member.leave"),
    Transition(MemberStatus.rejected, MemberStatus.requested, allowed=_represents, action="tavolo_member.request"),
    Transition(MemberStatus.left, MemberStatus.requested, allowed=_represents, action="tavolo_member.request"),
])


class TavoloMember(db.Model):
    """An organisation sitting at a tavolo, with its delegate and optional substitute."""

    __tablename__ = "tavolo_member"
    __table_args__ = (
        UniqueConstraint("tavolo_id", "organisation_id"),
        enum_check("status", MemberStatus),
        CheckConstraint("status != 'rejected' OR rejection_reason IS NOT NULL", name="rejected_has_reason"),
        CheckConstraint("substitute_id IS NULL OR substitute_id != delegate_id", name="substitute_not_delegate"),
        CheckConstraint("status != 'accepted' OR decided_at IS NOT NULL", name="accepted_has_date"),
        Index("ix_tavolo_member_tavolo_status", "tavolo_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tavolo_id: Mapped[int] = mapped_column(ForeignKey("tavolo.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    # People may delete their account: the seat stays, without a delegate until the organisation names one.
    delegate_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    substitute_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = enum_column(MemberStatus, default=MemberStatus.requested)
    rejection_reason: Mapped[str | None] = mapped_column(String(1000))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    tavolo: Mapped[Tavolo] = relationship()
    organisation: Mapped[Organisation] = relationship(lazy="joined")
    delegate: Mapped[User | None] = relationship(foreign_keys=[delegate_id], lazy="joined")
    substitute: Mapped[User | None] = relationship(foreign_keys=[substitute_id], lazy="joined")

    def __repr__(self) -> str:
        return f"<TavoloMember {self.id} tavolo={self.tavolo_id} org={self.organisation_id} {self.status}>"

    @property
    def status_label(self) -> str:
        return str(MEMBER_STATUS_LABELS[self.status])

    @property
    def is_accepted(self) -> bool:
        return self.status == MemberStatus.accepted

    @property
    def is_active_seat(self) -> bool:
        """Requested or accepted: the organisation is (asking to be) at the tavolo."""
        return self.status in (MemberStatus.requested, MemberStatus.accepted)

    @property
    def convocation_recipients(self) -> list[User]:
        return [u for u in (self.delegate, self.substitute) if u is not None]

    # --- permissions -------------------------------------------------------
    @staticmethod
    def can_request(tavolo, user) -> bool:
        """May `user` ask, for the organisation they represent, to sit at `tavolo`?"""
        return (is_active_participant(user) and user.represented_organisation is not None
                and tavolo.can_view(user) and tavolo.phase != "closed")

    def can_accept(self, user) -> bool:
        return MEMBER_TRANSITIONS.can(self, MemberStatus.accepted, user)

    def can_reject(self, user) -> bool:
        return MEMBER_TRANSITIONS.can(self, MemberStatus.rejected, user)

    def can_leave(self, user) -> bool:
        return MEMBER_TRANSITIONS.can(self, MemberStatus.left, user)

    def can_update_delegates(self, user) -> bool:
        return self.is_active_seat and _represents(self, user)


# =========================================================================== meetings

class MeetingStatus(StrEnum):
    scheduled = "scheduled"
    held = "held"
    cancelled = "cancelled"


MEETING_STATUS_LABELS = {
    "scheduled": _l("Convocato"),
    "held": _l("Svolto"),
    "cancelled": _l("Annullato"),
}


def _meeting_facilitator(meeting, user) -> bool:
    return facilitates(user, meeting.tavolo)


def _meeting_started(meeting, ctx) -> str | None:
    now = ctx.get("now") or utcnow()
    if meeting.starts_at > now:
        return "L'incontro non è ancora iniziato: potrai segnarlo come svolto dopo l'orario di inizio."
    return None


MEETING_TRANSITIONS = TransitionTable("status", [
    Transition(MeetingStatus.scheduled, MeetingStatus.held, allowed=_meeting_facilitator,
               action="meeting.held", requires=_meeting_started),
    Transition(MeetingStatus.scheduled, MeetingStatus.cancelled, allowed=_meeting_facilitator,
               action="meeting.cancel", requires=_needs_reason("Indica il motivo dell'annullamento.")),
])


meeting_proposal = Table(
    "meeting_proposal",
    db.metadata,
    Column("meeting_id", ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True),
    Column("proposal_id", ForeignKey("proposal.id", ondelete="CASCADE"), primary_key=True),
)

meeting_objective = Table(
    "meeting_objective",
    db.metadata,
    Column("meeting_id", ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True),
    Column("objective_id", ForeignKey("objective.id", ondelete="CASCADE"), primary_key=True),
)


class Meeting(db.Model):
    __tablename__ = "meeting"
    __table_args__ = (
        enum_check("status", MeetingStatus),
        # Minutes point at (meeting, tavolo) so a verbale can never belong to another tavolo's meeting.
        UniqueConstraint("id", "tavolo_id", name="uq_meeting_id_tavolo"),
        CheckConstraint("place IS NOT NULL OR online_url IS NOT NULL", name="has_place_or_link"),
        CheckConstraint("ends_at IS NULL OR ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("online_url IS NULL OR substr(online_url, 1, 7) = 'http://' "
                        "OR substr(online_url, 1, 8) = 'https://'", name="online_url_http"),
        CheckConstraint("status != 'cancelled' OR cancel_reason IS NOT NULL", name="cancelled_has_reason"),
        CheckConstraint("sequence >= 0", name="sequence_not_negative"),
        Index("ix_meeting_tavolo_starts", "tavolo_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tavolo_id: Mapped[int] = mapped_column(ForeignKey("tavolo.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    place: Mapped[str | None] = mapped_column(String(300))
    online_url: Mapped[str | None] = mapped_column(String(500))
    agenda: Mapped[str] = mapped_column(Text, default="")
    agenda_html: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = enum_column(MeetingStatus, default=MeetingStatus.scheduled)
    cancel_reason: Mapped[str | None] = mapped_column(String(1000))
    # iCalendar SEQUENCE: bumped at every change calendar clients must pick up.
    sequence: Mapped[int] = mapped_column(default=0, server_default="0")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    tavolo: Mapped[Tavolo] = relationship()
    proposals: Mapped[list[Proposal]] = relationship(secondary=meeting_proposal, order_by="Proposal.id")
    objectives: Mapped[list[Objective]] = relationship(secondary=meeting_objective, order_by="Objective.id")

    def __repr__(self) -> str:
        return f"<Meeting {self.id} {self.starts_at:%Y-%m-%d %H:%M} {self.status}>"

    @property
    def status_label(self) -> str:
        return str(MEETING_STATUS_LABELS[self.status])

    @property
    def is_scheduled(self) -> bool:
        return self.status == MeetingStatus.scheduled

    def has_started(self, now: datetime | None = None) -> bool:
        return self.starts_at <= (now or utcnow())

    # --- permissions -------------------------------------------------------
    def can_view(self, user) -> bool:
        return self.tavolo.can_view(user)

    @staticmethod
    def can_schedule(tavolo, user) -> bool:
        return facilitates(user, tavolo)

    def can_manage(self, user) -> bool:
        return facilitates(user, self.tavolo)

    def can_edit(self, user) -> bool:
        return self.can_manage(user) and self.is_scheduled

    def can_cancel(self, user) -> bool:
        return MEETING_TRANSITIONS.can(self, MeetingStatus.cancelled, user)

    def can_mark_held(self, user) -> bool:
        return MEETING_TRANSITIONS.can(self, MeetingStatus.held, user) and self.has_started()

    def can_start_minutes(self, user) -> bool:
        """Minutes are written for a meeting that took place (held, or scheduled and already started)."""
        if not self.can_manage(user):
            return False
        return self.status == MeetingStatus.held or (self.is_scheduled and self.has_started())


# =========================================================================== minutes

class MinutesStatus(StrEnum):
    draft = "draft"
    approved = "approved"


MINUTES_STATUS_LABELS = {
    "draft": _l("Bozza"),
    "approved": _l("Approvato"),
}


def _minutes_facilitator(minutes, user) -> bool:
    return facilitates(user, minutes.tavolo)


def _minutes_complete(minutes, ctx) -> str | None:
    if not (minutes.text or "").strip():
        return "Il verbale è vuoto: scrivi il testo prima di approvarlo."
    if not ctx.get("attendance"):
        return "Il verbale non registra alcun presente: indica chi ha partecipato prima di approvarlo."
    for decision in minutes.decisions:
        if decision.method == Method.vote and votes_cast(
                decision.votes_for, decision.votes_against, decision.votes_abstained) > minutes.members_present:
            values = {"title": decision.subject_title, "present": minutes.members_present}
            return gettext(TOO_MANY_VOTES, **values) if has_request_context() else TOO_MANY_VOTES % values
    return None


MINUTES_TRANSITIONS = TransitionTable("status", [
    Transition(MinutesStatus.draft, MinutesStatus.approved, allowed=_minutes_facilitator,
               action="minutes.approve", requires=_minutes_complete),
])


def N_(text: str) -> str:
    """Marks a message for extraction; translated where it is used."""
    return text


TOO_MANY_VOTES = N_("La decisione su «%(title)s» registra più voti dei membri presenti con diritto di voto "
                    "(%(present)d): correggi i voti o le presenze prima di approvare.")
IMMUTABLE_TEXT = N_("Il verbale è approvato e non si può più modificare. Per correggerlo crea una rettifica.")


class ImmutableMinutes(TransitionError):
    """Something tried to change approved minutes (also raised outside requests: CLI, workers)."""

    def __init__(self):
        super().__init__(gettext(IMMUTABLE_TEXT) if has_request_context() else IMMUTABLE_TEXT, 409)


class Minutes(db.Model):
    __tablename__ = "minutes"
    __table_args__ = (
        enum_check("status", MinutesStatus),
        ForeignKeyConstraint(["meeting_id", "tavolo_id"], ["meeting.id", "meeting.tavolo_id"],
                             name="fk_minutes_meeting_tavolo", ondelete="CASCADE"),
        CheckConstraint(
            "status != 'approved' OR (content_hash IS NOT NULL AND approved_at IS NOT NULL "
            "AND approved_by_name IS NOT NULL)", name="approved_is_sealed"),
        CheckConstraint("content_hash IS NULL OR length(content_hash) = 64", name="hash_is_sha256"),
        CheckConstraint("corrects_id IS NULL OR corrects_id != id", name="not_correcting_itself"),
        CheckConstraint("members_present >= 0", name="members_present_not_negative"),
        # One original verbale per meeting; each verbale is rectified at most once (corrections form a chain).
        Index("uq_minutes_original_per_meeting", "meeting_id", unique=True,
              sqlite_where=text("corrects_id IS NULL"), postgresql_where=text("corrects_id IS NULL")),
        UniqueConstraint("corrects_id"),
        Index("ix_minutes_tavolo_status", "tavolo_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(index=True)
    tavolo_id: Mapped[int] = mapped_column(ForeignKey("tavolo.id", ondelete="CASCADE"))
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("minutes.id"))
    status: Mapped[str] = enum_column(MinutesStatus, default=MinutesStatus.draft)
    agenda_items: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    text_html: Mapped[str] = mapped_column(Text, default="")
    # Snapshots taken from the attendance: the tavolo's quorum may change later.
    quorum_required: Mapped[int | None]
    members_present: Mapped[int] = mapped_column(default=0, server_default="0")
    quorum_reached: Mapped[bool | None]
    content_hash: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None]
    approved_by_name: Mapped[str | None] = mapped_column(String(120))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    meeting: Mapped[Meeting] = relationship(foreign_keys=[meeting_id],
                                            primaryjoin="Minutes.meeting_id == Meeting.id")
    tavolo: Mapped[Tavolo] = relationship(foreign_keys=[tavolo_id])
    corrects: Mapped[Minutes | None] = relationship(remote_side=[id], foreign_keys=[corrects_id])
    attendance: Mapped[list[Attendance]] = relationship(
        back_populates="minutes", cascade="all, delete-orphan", order_by="Attendance.id")
    decisions: Mapped[list[Decision]] = relationship(
        back_populates="minutes", cascade="all, delete-orphan", order_by="Decision.id")

    def __repr__(self) -> str:
        return f"<Minutes {self.id} meeting={self.meeting_id} {self.status}>"

    @property
    def status_label(self) -> str:
        return str(MINUTES_STATUS_LABELS[self.status])

    @property
    def is_draft(self) -> bool:
        return self.status == MinutesStatus.draft

    @property
    def is_approved(self) -> bool:
        return self.status == MinutesStatus.approved

    @property
    def is_correction(self) -> bool:
        return self.corrects_id is not None

    @property
    def agenda_item_list(self) -> list[str]:
        return [line.strip() for line in (self.agenda_items or "").splitlines() if line.strip()]

    # --- permissions -------------------------------------------------------
    def can_manage(self, user) -> bool:
        """Facilitators of the tavolo and admins: they see drafts and may act on the verbale."""
        return facilitates(user, self.tavolo)

    def can_view(self, user) -> bool:
        return (self.is_approved and self.tavolo.can_view(user)) or self.can_manage(user)

    def can_edit(self, user) -> bool:
        return self.can_manage(user) and self.is_draft

    def can_approve(self, user) -> bool:
        return MINUTES_TRANSITIONS.can(self, MinutesStatus.approved, user)

    def can_rectify(self, user) -> bool:
        return self.can_manage(user) and self.is_approved


class AttendanceKind(StrEnum):
    member = "member"
    participant = "participant"
    external = "external"


class AttendedAs(StrEnum):
    delegate = "delegate"
    substitute = "substitute"


ATTENDANCE_KIND_LABELS = {
    "member": _l("Organizzazione aderente"),
    "participant": _l("Partecipante della piattaforma"),
    "external": _l("Invitato esterno"),
}
ATTENDED_AS_LABELS = {
    "delegate": _l("delegato/a"),
    "substitute": _l("sostituto/a"),
}
# The category of people who are neither organisations nor citizens of the platform.
EXTERNAL_CATEGORY = "external"
EXTERNAL_CATEGORY_LABEL = _l("Invitati esterni")


class Attendance(db.Model):
    """Who was present: a member organisation (through its delegate or substitute),
    another platform participant, or an external person with their role."""

    __tablename__ = "minutes_attendance"
    __table_args__ = (
        enum_check("kind", AttendanceKind),
        CheckConstraint("attended_as IS NULL OR attended_as IN ('delegate', 'substitute')",
                        name="attended_as_valid"),
        CheckConstraint("(kind = 'member') = (attended_as IS NOT NULL)", name="member_attends_as"),
        CheckConstraint("kind != 'member' OR organisation_name IS NOT NULL", name="member_has_organisation"),
        CheckConstraint("kind != 'external' OR user_id IS NULL", name="external_has_no_account"),
        CheckConstraint("length(name) > 0", name="name_not_empty"),
        UniqueConstraint("minutes_id", "organisation_id", name="uq_minutes_attendance_organisation"),
        UniqueConstraint("minutes_id", "user_id", name="uq_minutes_attendance_user"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    minutes_id: Mapped[int] = mapped_column(ForeignKey("minutes.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = enum_column(AttendanceKind)
    # Set for members (and participants who represent an organisation); the name is the record.
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id", ondelete="SET NULL"))
    organisation_name: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(20))
    attended_as: Mapped[str | None] = mapped_column(String(10))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str | None] = mapped_column(String(120))

    minutes: Mapped[Minutes] = relationship(back_populates="attendance")

    @property
    def kind_label(self) -> str:
        return str(ATTENDANCE_KIND_LABELS[self.kind])

    @property
    def attended_as_label(self) -> str:
        return str(ATTENDED_AS_LABELS.get(self.attended_as, "")) if self.attended_as else ""


class Outcome(StrEnum):
    approved = "approved"
    partially_approved = "partially_approved"
    rejected = "rejected"
    deferred = "deferred"


class Method(StrEnum):
    consensus = "consensus"
    vote = "vote"


PROPOSAL_OUTCOME_LABELS = {
    "approved": _l("Accolta"),
    "partially_approved": _l("Accolta in parte"),
    "rejected": _l("Non accolta"),
    "deferred": _l("Rinviata"),
}
OBJECTIVE_OUTCOME_LABELS = {
    "approved": _l("Approvato"),
    "partially_approved": _l("Approvato in parte"),
    "rejected": _l("Non approvato"),
    "deferred": _l("Rinviato"),
}
METHOD_LABELS = {
    "consensus": _l("Per consenso"),
    "vote": _l("Con votazione"),
}
# Objectives have no partial approval in their lifecycle.
OBJECTIVE_OUTCOMES = ("approved", "rejected", "deferred")


def votes_cast(votes_for: int | None, votes_against: int | None, votes_abstained: int | None) -> int:
    return (votes_for or 0) + (votes_against or 0) + (votes_abstained or 0)


def outcome_contradicts_counts(outcome: str, votes_for: int | None, votes_against: int | None) -> bool:
    """An outcome the counts do not support: approved without more votes for than against,
    partially approved with more against than for, rejected with more for than against."""
    if votes_for is None or votes_against is None:
        return False
    if outcome == Outcome.approved:
        return votes_for <= votes_against
    if outcome == Outcome.partially_approved:
        return votes_for < votes_against
    if outcome == Outcome.rejected:
        return votes_for > votes_against
    return False


class Decision(db.Model):
    """What the tavolo decided on one proposal or objective in a verbale."""

    __tablename__ = "minutes_decision"
    __table_args__ = (
        enum_check("outcome", Outcome),
        enum_check("method", Method),
        CheckConstraint("(proposal_id IS NULL) != (objective_id IS NULL)", name="one_subject"),
        CheckConstraint(
            "(method = 'consensus' AND votes_for IS NULL AND votes_against IS NULL AND votes_abstained IS NULL)"
            " OR (method = 'vote' AND votes_for IS NOT NULL AND votes_against IS NOT NULL"
            " AND votes_abstained IS NOT NULL AND votes_for >= 0 AND votes_against >= 0 AND votes_abstained >= 0)",
            name="counts_only_with_vote"),
        CheckConstraint("length(motivation) > 0", name="motivation_required"),
        CheckConstraint("objective_id IS NULL OR outcome != 'partially_approved'", name="objective_not_partial"),
        UniqueConstraint("minutes_id", "proposal_id", name="uq_minutes_decision_proposal"),
        UniqueConstraint("minutes_id", "objective_id", name="uq_minutes_decision_objective"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    minutes_id: Mapped[int] = mapped_column(ForeignKey("minutes.id", ondelete="CASCADE"), index=True)
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposal.id"), index=True)
    objective_id: Mapped[int | None] = mapped_column(ForeignKey("objective.id"), index=True)
    subject_title: Mapped[str] = mapped_column(String(300))
    outcome: Mapped[str] = enum_column(Outcome)
    method: Mapped[str] = enum_column(Method, default=Method.consensus)
    votes_for: Mapped[int | None]
    votes_against: Mapped[int | None]
    votes_abstained: Mapped[int | None]
    motivation: Mapped[str] = mapped_column(Text)
    motivation_html: Mapped[str] = mapped_column(Text, default="")
    # Why the outcome stands although the counts say otherwise (confirmed explicitly by the facilitator).
    outcome_note: Mapped[str | None] = mapped_column(Text)

    minutes: Mapped[Minutes] = relationship(back_populates="decisions")
    proposal: Mapped[Proposal | None] = relationship()
    objective: Mapped[Objective | None] = relationship()
    dissents: Mapped[list[Dissent]] = relationship(
        back_populates="decision", cascade="all, delete-orphan", order_by="Dissent.organisation_name")

    @property
    def subject_type(self) -> str:
        return "proposal" if self.proposal_id is not None else "objective"

    @property
    def subject_id(self) -> int:
        return self.proposal_id if self.proposal_id is not None else self.objective_id

    @property
    def subject_key(self) -> str:
        return f"{'p' if self.proposal_id is not None else 'o'}:{self.subject_id}"

    @property
    def outcome_label(self) -> str:
        labels = PROPOSAL_OUTCOME_LABELS if self.proposal_id is not None else OBJECTIVE_OUTCOME_LABELS
        return str(labels[self.outcome])

    @property
    def method_label(self) -> str:
        return str(METHOD_LABELS[self.method])

    @property
    def outcome_class(self) -> str:
        return f"outcome-{self.outcome.replace('_', '-')}"


class Dissent(db.Model):
    """A member organisation's dissenting position on a decision."""

    __tablename__ = "minutes_dissent"
    __table_args__ = (
        UniqueConstraint("decision_id", "organisation_id", name="uq_minutes_dissent_organisation"),
        CheckConstraint("length(text) > 0", name="text_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("minutes_decision.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id", ondelete="SET NULL"))
    organisation_name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(String(2000))

    decision: Mapped[Decision] = relationship(back_populates="dissents")


# =========================================================================== immutability

# Columns that make up the record; the *_id links to users and organisations are left out
# (ON DELETE SET NULL may clear them), everything else is frozen once approved.
GUARDED_COLUMNS: dict[str, tuple[str, ...]] = {
    "minutes": ("id", "meeting_id", "tavolo_id", "corrects_id", "status", "agenda_items", "text", "text_html",
                "quorum_required", "members_present", "quorum_reached", "content_hash", "approved_at",
                "approved_by_name", "created_at", "updated_at"),
    "minutes_attendance": ("id", "minutes_id", "kind", "organisation_name", "category", "attended_as", "name",
                           "role"),
    "minutes_decision": ("id", "minutes_id", "proposal_id", "objective_id", "subject_title", "outcome", "method",
                         "votes_for", "votes_against", "votes_abstained", "motivation", "motivation_html",
                         "outcome_note"),
    "minutes_dissent": ("id", "decision_id", "organisation_name", "category", "text"),
}
IMMUTABLE_MESSAGE = "approved minutes are immutable"


def _committed_status(minutes: Minutes) -> str | None:
    """The status as stored in the database (before any change pending in this flush)."""
    state = inspect(minutes)
    if state.pending or state.transient:
        return None
    history = state.attrs.status.history
    if history.deleted:
        return history.deleted[0]
    return minutes.status


def _changed(obj, columns: tuple[str, ...]) -> bool:
    attrs = inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in columns)


def _owning_minutes(session: Session, obj) -> Minutes | None:
    if isinstance(obj, Dissent):
        decision = obj.decision or (session.get(Decision, obj.decision_id) if obj.decision_id else None)
        return _owning_minutes(session, decision) if decision is not None else None
    minutes = obj.minutes
    if minutes is None and obj.minutes_id is not None:
        minutes = session.get(Minutes, obj.minutes_id)
    return minutes


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_approved_minutes(session: Session, flush_context, instances) -> None:
    """The ORM half of the guard: refuse before any SQL is sent."""
    with session.no_autoflush:
        for obj in (*session.new, *session.dirty, *session.deleted):
            if isinstance(obj, Minutes):
                if obj in session.new:
                    continue
                if _committed_status(obj) == MinutesStatus.approved and (
                        obj in session.deleted or _changed(obj, GUARDED_COLUMNS["minutes"])):
                    raise ImmutableMinutes()
            elif isinstance(obj, (Attendance, Decision, Dissent)):
                if obj in session.dirty and not _changed(obj, GUARDED_COLUMNS[obj.__tablename__]):
                    continue
                minutes = _owning_minutes(session, obj)
                if minutes is not None and _committed_status(minutes) == MinutesStatus.approved:
                    raise ImmutableMinutes()


def _sqlite_triggers() -> list[str]:
    raise_abort = f"SELECT RAISE(ABORT, '{IMMUTABLE_MESSAGE}');"
    minutes_cols = ", ".join(GUARDED_COLUMNS["minutes"])
    statements = [
        f"CREATE TRIGGER minutes_immutable_update BEFORE UPDATE OF {minutes_cols} ON minutes "
        f"WHEN OLD.status = 'approved' BEGIN {raise_abort} END",
        "CREATE TRIGGER minutes_immutable_delete BEFORE DELETE ON minutes "
        f"WHEN OLD.status = 'approved' BEGIN {raise_abort} END",
    ]
    parents = {
        "minutes_attendance": "(SELECT status FROM minutes WHERE id = {row}.minutes_id)",
        "minutes_decision": "(SELECT status FROM minutes WHERE id = {row}.minutes_id)",
        "minutes_dissent": ("(SELECT m.status FROM minutes m JOIN minutes_decision d ON d.minutes_id = m.id "
                            "WHERE d.id = {row}.decision_id)"),
    }
    for table, parent in parents.items():
        cols = ", ".join(GUARDED_COLUMNS[table])
        old, new = parent.format(row="OLD"), parent.format(row="NEW")
        statements += [
            f"CREATE TRIGGER {table}_immutable_insert BEFORE INSERT ON {table} "
            f"WHEN {new} = 'approved' BEGIN {raise_abort} END",
            f"CREATE TRIGGER {table}_immutable_update BEFORE UPDATE OF {cols} ON {table} "
            f"WHEN {old} = 'approved' OR {new} = 'approved' BEGIN {raise_abort} END",
            f"CREATE TRIGGER {table}_immutable_delete BEFORE DELETE ON {table} "
            f"WHEN {old} = 'approved' BEGIN {raise_abort} END",
        ]
    return statements


_PG_MINUTES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION minutes_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'approved' THEN
        RAISE EXCEPTION '{IMMUTABLE_MESSAGE}' USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$
"""

# TG_ARGV[0] names the column that leads to the verbale: minutes_id, or decision_id for dissents.
_PG_PART_FUNCTION = f"""
CREATE OR REPLACE FUNCTION minutes_part_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    parent_ids integer[] := ARRAY[]::integer[];
    parent_status text;
    row_data jsonb;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        row_data := to_jsonb(OLD);
        parent_ids := parent_ids || (row_data ->> TG_ARGV[0])::integer;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        row_data := to_jsonb(NEW);
        parent_ids := parent_ids || (row_data ->> TG_ARGV[0])::integer;
    END IF;
    IF TG_ARGV[0] = 'decision_id' THEN
        SELECT m.status INTO parent_status FROM minutes m JOIN minutes_decision d ON d.minutes_id = m.id
        WHERE d.id = ANY(parent_ids) AND m.status = 'approved' LIMIT 1;
    ELSE
        SELECT status INTO parent_status FROM minutes WHERE id = ANY(parent_ids) AND status = 'approved' LIMIT 1;
    END IF;
    IF parent_status = 'approved' THEN
        RAISE EXCEPTION '{IMMUTABLE_MESSAGE}' USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$
"""


def _postgresql_triggers() -> list[str]:
    statements = [
        _PG_MINUTES_FUNCTION.strip(),
        _PG_PART_FUNCTION.strip(),
        f"CREATE TRIGGER minutes_immutable BEFORE UPDATE OF {', '.join(GUARDED_COLUMNS['minutes'])} OR DELETE "
        "ON minutes FOR EACH ROW EXECUTE FUNCTION minutes_refuse_change()",
    ]
    for table, link in (("minutes_attendance", "minutes_id"), ("minutes_decision", "minutes_id"),
                        ("minutes_dissent", "decision_id")):
        statements.append(
            f"CREATE TRIGGER {table}_immutable BEFORE INSERT OR UPDATE OF {', '.join(GUARDED_COLUMNS[table])} "
            f"OR DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION minutes_part_refuse_change('{link}')"
        )
    return statements


def trigger_statements(dialect: str) -> list[str]:
    """The immutability triggers as SQL, in creation order (for the Alembic migration too)."""
    return _sqlite_triggers() if dialect == "sqlite" else _postgresql_triggers()


def trigger_names(dialect: str) -> list[tuple[str, str]]:
    """(trigger, table) pairs, e.g. to lift the guard in a test that tampers with a row."""
    if dialect == "sqlite":
        names = [("minutes_immutable_update", "minutes"), ("minutes_immutable_delete", "minutes")]
        for table in ("minutes_attendance", "minutes_decision", "minutes_dissent"):
            names += [(f"{table}_immutable_{op}", table) for op in ("insert", "update", "delete")]
        return names
    return [("minutes_immutable", "minutes")] + [
        (f"{table}_immutable", table) for table in ("minutes_attendance", "minutes_decision", "minutes_dissent")]


def _attach_triggers() -> None:
    """Create the triggers right after the last guarded table exists (create_all)."""
    for dialect in ("sqlite", "postgresql"):
        for statement in trigger_statements(dialect):
            event.listen(Dissent.__table__, "after_create", DDL(statement).execute_if(dialect=dialect))


_attach_triggers()
