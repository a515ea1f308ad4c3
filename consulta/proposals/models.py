"""Proposals put forward at a tavolo, and their lifecycle."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ColumnElement, ForeignKey, Index, String, Text, and_, false
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from consulta.core.counters import bump
from consulta.core.db import enum_check, enum_column, utcnow
from consulta.core.events import stored_text
from consulta.core.permissions import facilitates, is_active_participant, is_authenticated, may_act
from consulta.core.states import Transition, TransitionTable
from consulta.extensions import db
from consulta.tavoli import counters as tavolo_counters

if TYPE_CHECKING:
    from consulta.accounts.models import User
    from consulta.organisations.models import Organisation
    from consulta.tavoli.models import Objective, Tavolo


class ProposalState(StrEnum):
    submitted = "submitted"
    published = "published"
    under_review = "under_review"
    approved = "approved"
    partially_approved = "partially_approved"
    rejected = "rejected"
    merged = "merged"
    withdrawn = "withdrawn"


STATE_LABELS = {
    "submitted": _l("In attesa di moderazione"),
    "published": _l("Pubblicata"),
    "under_review": _l("In valutazione"),
    "approved": _l("Accolta"),
    "partially_approved": _l("Accolta in parte"),
    "rejected": _l("Non accolta"),
    "merged": _l("Unita ad altra proposta"),
    "withdrawn": _l("Ritirata"),
}
ANSWERED_STATES = frozenset({"approved", "partially_approved", "rejected", "merged"})
# Published at some point and not withdrawn: each of these needs an answer before the tavolo closes.
REGISTER_STATES = frozenset({"published", "under_review", *ANSWERED_STATES})
AWAITING_ANSWER_STATES = frozenset({"published", "under_review"})
# The answers a facilitator (or a minutes decision) gives; merging has its own form fields.
OUTCOMES = ("approved", "partially_approved", "rejected")
OUTCOME_LABELS = {
    "approved": _l("Accolta"),
    "partially_approved": _l("Accolta in parte"),
    "rejected": _l("Non accolta"),
    "merged": _l("Unita ad altra proposta"),
}


class Visibility(StrEnum):
    pending = "pending"
    visible = "visible"
    hidden = "hidden"


class Channel(StrEnum):
    online = "online"
    paper = "paper"
    email = "email"
    meeting = "meeting"


CHANNEL_LABELS = {
    "online": _l("Online"),
    "paper": _l("Cartacea"),
    "email": _l("Posta elettronica"),
    "meeting": _l("Durante un incontro"),
}
# The badge of a contribution received off-line, shown wherever the proposal appears.
OFFLINE_BADGES = {
    "paper": _l("Pervenuta in forma cartacea"),
    "email": _l("Pervenuta per posta elettronica"),
    "meeting": _l("Presentata durante un incontro"),
}
OFFLINE_CHANNELS = ("paper", "email", "meeting")


def _author(proposal, user) -> bool:
    return may_act(user) and proposal.author_id == user.id


def _facilitator(proposal, user) -> bool:
    return facilitates(user, proposal.tavolo)


def _system_or_facilitator(proposal, user) -> bool:
    # Publication happens automatically in post-moderated tavoli (actor is the author) or by a moderator.
    return _facilitator(proposal, user) or (_author(proposal, user) and proposal.tavolo.moderation == "post")


def _needs_answer(proposal, ctx) -> str | None:
    if not (ctx.get("answer") or "").strip():
        return "La risposta deve avere una motivazione."
    return None


def _decision_transitions() -> list[Transition]:
    """Moves a minutes decision makes to confirm or overturn an evaluation (or to decide directly).

    under_review → outcome already exists as the facilitator's answer; the verbale walks through it.
    """
    sources = (ProposalState.published, ProposalState.approved, ProposalState.partially_approved,
               ProposalState.rejected)
    targets = (ProposalState.approved, ProposalState.partially_approved, ProposalState.rejected)
    return [Transition(source, target, allowed=_facilitator, action="minutes.decision", requires=_needs_answer)
            for source in sources for target in targets if source != target]


# --------------------------------------------------------------------------- counters

def tavolo_tallies(state: str, visibility: str) -> dict[str, int]:
    """What one proposal in this state and visibility adds to its tavolo's counters (Tavolo.*_count).

    The same conditions in SQL: `tavolo_tallies_sql()`.
    """
    return {
        "listed_count": int(state != ProposalState.submitted and visibility != Visibility.pending),
        "proposals_count": int(state not in (ProposalState.submitted, ProposalState.withdrawn)
                               and visibility == Visibility.visible),
        "register_count": int(state in REGISTER_STATES and visibility != Visibility.hidden),
        "answered_count": int(state in ANSWERED_STATES and visibility != Visibility.hidden),
    }


def tavolo_tallies_sql() -> dict[str, ColumnElement[bool]]:
    """`tavolo_tallies` as SQL conditions on Proposal, for lists and for recounting."""
    return {
        "listed_count": and_(Proposal.state != ProposalState.submitted.value,
                             Proposal.visibility != Visibility.pending.value),
        "proposals_count": and_(Proposal.state.not_in((ProposalState.submitted.value, ProposalState.withdrawn.value)),
                                Proposal.visibility == Visibility.visible.value),
        "register_count": and_(Proposal.state.in_(sorted(REGISTER_STATES)),
                               Proposal.visibility != Visibility.hidden.value),
        "answered_count": and_(Proposal.state.in_(sorted(ANSWERED_STATES)),
                               Proposal.visibility != Visibility.hidden.value),
    }


def count_move(proposal: Proposal, attribute: str, before: str) -> None:
    """After a move of state or visibility: the tavolo's counters, and its author's participation
    (a public proposal counts as one contribution), follow the proposal."""
    was = tavolo_tallies(**{"state": proposal.state, "visibility": proposal.visibility, attribute: before})
    now = tavolo_tallies(proposal.state, proposal.visibility)
    deltas = {name: now[name] - was[name] for name in now}
    tavolo_counters.take_part(proposal.tavolo_id, proposal.author_id, deltas["proposals_count"])
    tavolo_counters.count(proposal.tavolo_id, **deltas)


def count_on_proposal(proposal_id: int, *, votes_for: int = 0, comments: int = 0) -> None:
    """The counters a proposal's card shows and its list sorts by: ballots in favour, public comments."""
    bump(Proposal, proposal_id, votes_for_count=votes_for, comments_count=comments)


PROPOSAL_TRANSITIONS = TransitionTable("state", [
    Transition(ProposalState.submitted, ProposalState.published, allowed=_system_or_facilitator,
               action="proposal.publish"),
    Transition(ProposalState.submitted, ProposalState.withdrawn, allowed=_author, action="proposal.withdraw"),
    Transition(ProposalState.published, ProposalState.withdrawn, allowed=_author, action="proposal.withdraw"),
    Transition(ProposalState.published, ProposalState.under_review, allowed=_facilitator,
               action="proposal.review"),
    Transition(ProposalState.under_review, ProposalState.approved, allowed=_facilitator,
               action="proposal.answer", requires=_needs_answer),
    Transition(ProposalState.under_review, ProposalState.partially_approved, allowed=_facilitator,
               action="proposal.answer", requires=_needs_answer),
    Transition(ProposalState.under_review, ProposalState.rejected, allowed=_facilitator,
               action="proposal.answer", requires=_needs_answer),
    Transition(ProposalState.under_review, ProposalState.merged, allowed=_facilitator,
               action="proposal.merge", requires=_needs_answer),
    Transition(ProposalState.published, ProposalState.merged, allowed=_facilitator,
               action="proposal.merge", requires=_needs_answer),
    *_decision_transitions(),
], on_change=count_move)


def _listed_at(context) -> datetime:
    """On INSERT: the publication date if given, else the submission date (created_at's default has run)."""
    row = context.get_current_parameters()
    return row.get("published_at") or row["created_at"]


class Proposal(db.Model):
    __tablename__ = "proposal"
    __table_args__ = (
        enum_check("state", ProposalState),
        enum_check("visibility", Visibility),
        enum_check("channel", Channel),
        CheckConstraint("visibility != 'hidden' OR hidden_reason IS NOT NULL", name="hidden_has_reason"),
        CheckConstraint(
            "state NOT IN ('approved', 'partially_approved', 'rejected', 'merged') "
            "OR (answer IS NOT NULL AND answered_by_id IS NOT NULL AND answered_at IS NOT NULL)",
            name="decided_has_answer",
        ),
        CheckConstraint("(state = 'merged') = (merged_into_id IS NOT NULL)", name="merged_has_target"),
        CheckConstraint("merged_into_id IS NULL OR merged_into_id != id", name="not_merged_into_self"),
        CheckConstraint("channel = 'online' OR recorded_by_id IS NOT NULL", name="offline_has_recorder"),
        CheckConstraint("NOT hidden_by_flags OR visibility = 'hidden'", name="flag_hide_is_hidden"),
        CheckConstraint("author_id IS NOT NULL OR author_name IS NOT NULL OR organisation_id IS NOT NULL "
                        "OR channel = 'online'", name="offline_has_author"),
        Index("ix_proposal_tavolo_state", "tavolo_id", "state"),
        Index("ix_proposal_tavolo_created", "tavolo_id", "created_at"),
        # One index per order the tavolo's list offers (consulta.proposals.listing.SORTS), read backwards
        # for the descending orders: a page is cut on the index, never by sorting the tavolo's proposals.
        # State and visibility ride along, so that who may see a proposal is read off the index too: a
        # page far down the list skips its thousands of rows without visiting one of them.
        Index("ix_proposal_tavolo_listed", "tavolo_id", "listed_at", "id", "state", "visibility"),
        Index("ix_proposal_tavolo_votes", "tavolo_id", "votes_for_count", "listed_at", "id", "state", "visibility"),
        Index("ix_proposal_tavolo_comments", "tavolo_id", "comments_count", "listed_at", "id", "state",
              "visibility"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tavolo_id: Mapped[int] = mapped_column(ForeignKey("tavolo.id", ondelete="CASCADE"))
    objective_id: Mapped[int | None] = mapped_column(ForeignKey("objective.id", ondelete="SET NULL"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    # The author's name as given for an off-line contribution by someone without an account.
    author_name: Mapped[str | None] = mapped_column(String(120))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id", ondelete="SET NULL"), index=True)
    # Stakeholder category when submitted: the tavolo filter and tallies count it.
    category: Mapped[str] = mapped_column(String(20), default="citizen")
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = enum_column(Channel, default=Channel.online)
    protocol_number: Mapped[str | None] = mapped_column(String(60))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    state: Mapped[str] = enum_column(ProposalState, default=ProposalState.submitted)
    visibility: Mapped[str] = enum_column(Visibility, default=Visibility.pending)
    # Why it is hidden: a reason of the event catalogue ("moderation.spam"), and the moderator's own words.
    hidden_reason: Mapped[str | None] = mapped_column(String(500))
    hidden_note: Mapped[str | None] = mapped_column(String(500))
    # Hidden automatically by participants' flags, until a moderator reviews it.
    hidden_by_flags: Mapped[bool] = mapped_column(default=False, server_default=false())
    answer: Mapped[str | None] = mapped_column(Text)
    answer_html: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None]
    # Merges stay within a tavolo, and proposals go only with their tavolo: CASCADE keeps
    # "merged has a target" true while a tavolo's proposals are deleted one by one.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None]
    # Where the proposal stands in the tavolo's list: its publication, or its submission until then
    # (kept equal to them by `_follow_dates`; `flask recount` repairs a row written around it).
    listed_at: Mapped[datetime] = mapped_column(default=_listed_at)
    # Ballots in favour and public comments (visible, not deleted): maintained where votes and
    # comments change (count_on_proposal), read by the list's cards and orders.
    votes_for_count: Mapped[int] = mapped_column(default=0, server_default="0")
    comments_count: Mapped[int] = mapped_column(default=0, server_default="0")

    tavolo: Mapped[Tavolo] = relationship()
    objective: Mapped[Objective | None] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    organisation: Mapped[Organisation | None] = relationship()
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])
    merged_into: Mapped[Proposal | None] = relationship(remote_side=[id], foreign_keys=[merged_into_id])

    def __repr__(self) -> str:
        return f"<Proposal {self.id} {self.state}>"

    @validates("created_at", "published_at")
    def _follow_dates(self, key: str, value: datetime | None) -> datetime | None:
        dates = {"created_at": self.created_at, "published_at": self.published_at, key: value}
        listed = dates["published_at"] or dates["created_at"]
        if listed is not None:  # a new row without dates yet gets them, and listed_at, on INSERT
            self.listed_at = listed
        return value

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS[self.state])

    @property
    def channel_label(self) -> str:
        return str(CHANNEL_LABELS[self.channel])

    @property
    def is_answered(self) -> bool:
        return self.state in ANSWERED_STATES

    def is_author(self, user) -> bool:
        return is_authenticated(user) and self.author_id == user.id

    # --- permissions -------------------------------------------------------
    def can_view(self, user) -> bool:
        """May see the proposal page at all (a hidden one shows a placeholder)."""
        if not self.tavolo.can_view(user):
            return False
        if self.visibility == Visibility.pending or self.state == ProposalState.submitted:
            return self.is_author(user) or facilitates(user, self.tavolo)
        return True

    @property
    def hidden_reason_text(self) -> str | None:
        """Why it is hidden, in the reader's language."""
        return stored_text(self.hidden_reason, self.hidden_note)

    def can_read_text(self, user) -> bool:
        """May read the body: hidden text is kept from everyone but its author and moderators."""
        if not self.can_view(user):
            return False
        if self.visibility == Visibility.hidden:
            return self.is_author(user) or facilitates(user, self.tavolo)
        return True

    def within_grace(self, now: datetime | None = None) -> bool:
        minutes = current_app.config.get("EDIT_GRACE_MINUTES", 30)
        return (now or utcnow()) <= self.created_at + timedelta(minutes=minutes)

    def can_edit(self, user) -> bool:
        return (
            _author(self, user) and is_active_participant(user)
            and self.state in (ProposalState.submitted, ProposalState.published)
            and self.channel == Channel.online
            and self.within_grace()
        )

    def can_withdraw(self, user) -> bool:
        return PROPOSAL_TRANSITIONS.can(self, ProposalState.withdrawn, user)

    def is_open_for_discussion(self) -> bool:
        return self.visibility == Visibility.visible and self.state not in (
            ProposalState.withdrawn, ProposalState.merged, ProposalState.submitted)

    def can_comment(self, user) -> bool:
        return self.is_open_for_discussion() and self.tavolo.can_comment(user)

    def can_vote(self, user) -> bool:
        return self.is_open_for_discussion() and self.tavolo.can_vote(user)

    def can_follow(self, user) -> bool:
        return is_active_participant(user) and self.can_view(user)

    # --- moderation and answers (facilitators of the tavolo, admins) ----------------
    def can_moderate(self, user) -> bool:
        """May approve, hide or restore this proposal and see its flags."""
        return facilitates(user, self.tavolo)

    def can_start_review(self, user) -> bool:
        return PROPOSAL_TRANSITIONS.can(self, ProposalState.under_review, user)

    def can_answer(self, user) -> bool:
        return facilitates(user, self.tavolo) and self.awaits_answer

    def can_flag(self, user) -> bool:
        """A verified participant reports someone else's public proposal."""
        return (is_active_participant(user) and not self.is_author(user) and self.tavolo.can_view(user)
                and self.visibility == Visibility.visible
                and self.state not in (ProposalState.submitted, ProposalState.withdrawn))

    def can_unfollow(self, user) -> bool:
        # Anyone may stop following, even a blocked account: it only removes their own row.
        return is_authenticated(user) and self.can_view(user)

    # --- refusals: why a can_* answered no, as (HTTP status, Italian message) ---
    def edit_refusal(self, user) -> tuple[int, str] | None:
        if self.can_edit(user):
            return None
        if not self.is_author(user):
            return 403, str(_l("Puoi modificare solo le proposte che hai presentato tu."))
        if not is_active_participant(user):
            return 403, str(_l("Il tuo account non può modificare proposte in questo momento."))
        if self.state not in (ProposalState.submitted, ProposalState.published) or self.channel != Channel.online:
            return 409, str(_l("La proposta è «%(state)s»: non può più essere modificata.",
                               state=self.state_label))
        return 403, str(_l("Il tempo per modificare la proposta è scaduto: le modifiche sono possibili "
                           "solo entro %(minutes)d minuti dalla presentazione.", minutes=self.grace_minutes))

    def withdraw_refusal(self, user) -> tuple[int, str] | None:
        if self.can_withdraw(user):
            return None
        if not self.is_author(user):
            return 403, str(_l("Solo chi ha presentato la proposta può ritirarla."))
        if user.is_blocked:
            return 403, str(_l("Il tuo account è sospeso: non puoi ritirare la proposta."))
        if self.state == ProposalState.withdrawn:
            return 409, str(_l("La proposta è già stata ritirata."))
        return 409, str(_l("La proposta è «%(state)s»: dopo l'inizio della valutazione non può più essere ritirata.",
                           state=self.state_label))

    def answer_refusal(self, user) -> tuple[int, str] | None:
        """Why `user` may not evaluate or answer this proposal now."""
        if not facilitates(user, self.tavolo):
            return 403, str(_l("Solo i facilitatori di questo tavolo possono rispondere alle proposte."))
        if self.awaits_answer:
            return None
        if self.state == ProposalState.withdrawn:
            return 409, str(_l("La proposta è stata ritirata dall'autore: non si può più valutare."))
        if self.state == ProposalState.submitted:
            return 409, str(_l("La proposta è ancora in attesa di moderazione: approvala prima di valutarla."))
        return 409, str(_l("La proposta ha già una risposta («%(state)s»): la conferma o la modifica spetta "
                           "alla decisione riportata nel verbale.", state=self.state_label))

    # --- presentation ------------------------------------------------------
    @property
    def awaits_answer(self) -> bool:
        return self.state in AWAITING_ANSWER_STATES

    @property
    def is_offline(self) -> bool:
        return self.channel != Channel.online

    @property
    def offline_badge(self) -> str | None:
        """"Pervenuta in forma cartacea — prot. n. 2025/123", or None for an online proposal."""
        if not self.is_offline:
            return None
        text = str(OFFLINE_BADGES[self.channel])
        if self.protocol_number:
            text += " — " + str(_l("prot. n. %(number)s", number=self.protocol_number))
        return text

    @property
    def grace_minutes(self) -> int:
        return int(current_app.config.get("EDIT_GRACE_MINUTES", 30))

    @property
    def editable_until(self) -> datetime:
        return self.created_at + timedelta(minutes=self.grace_minutes)

    @property
    def is_pending(self) -> bool:
        return self.state == ProposalState.submitted or self.visibility == Visibility.pending

    @property
    def is_hidden(self) -> bool:
        return self.visibility == Visibility.hidden

    @property
    def state_class(self) -> str:
        """CSS class giving each state its own colour (the badge always carries the text too)."""
        return f"proposal-state-{self.state.replace('_', '-')}"

    @property
    def category_label(self) -> str:
        from consulta.organisations.models import CATEGORY_LABELS

        return str(CATEGORY_LABELS.get(self.category, self.category))

    @property
    def author_display_name(self) -> str:
        if self.author is not None:
            return self.author.display_name
        if self.author_name:
            return self.author_name
        if self.is_offline and self.organisation is not None:
            return self.organisation.name
        return str(_l("Autore non più registrato"))


def submission_refusal(tavolo, user) -> tuple[int, str] | None:
    """Why `user` may not submit a proposal to `tavolo` now (None when tavolo.can_propose(user)).

    Anonymous users are not covered: the view sends them to the login page.
    """
    if tavolo.can_propose(user):
        return None
    if user.is_blocked:
        return 403, str(_l("Il tuo account è sospeso: puoi leggere ma non presentare proposte."))
    if not user.is_verified:
        return 403, str(_l("Per presentare una proposta devi prima verificare il tuo indirizzo e-mail."))
    if tavolo.phase_allows("propose") and tavolo.deadline_passed():
        return 409, str(_l("Il termine per presentare proposte a questo tavolo è scaduto."))
    if tavolo.phase == "draft":
        return 409, str(_l("Il tavolo è ancora in preparazione: non accetta proposte."))
    return 409, str(_l("Il tavolo è «%(phase)s»: non accetta più nuove proposte.", phase=tavolo.phase_label))
