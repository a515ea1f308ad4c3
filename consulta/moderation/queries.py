"""Read side of moderation: the queue, the facilitator dashboard's counts and the public
moderation log. Every list is paginated and costs a fixed number of queries; every
count is a GROUP BY."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import and_, case, false, func, literal, or_, select, union_all
from sqlalchemy.orm import Load, joinedload, lazyload, load_only

from consulta.accounts.models import User
from consulta.comments.models import Comment
from consulta.core import keyset
from consulta.core.audit import AuditEvent
from consulta.core.events import action_label, public_actions
from consulta.core.permissions import is_admin, is_authenticated, is_facilitator
from consulta.extensions import db
from consulta.moderation.models import Flag
from consulta.proposals.models import OUTCOME_LABELS, Proposal, ProposalState, Visibility
from consulta.proposals.register import Register
from consulta.tavoli.models import Objective, Tavolo, tavolo_facilitator

QUEUE_PER_PAGE = 25
LOG_PER_PAGE = 30
LOG_PREVIEW = 5


# --------------------------------------------------------------------------- scope

def moderated_tavolo_ids(user):
    """SQL: the ids of the tavoli `user` moderates (admins: every tavolo; others: none)."""
    if is_admin(user):
        return select(Tavolo.id)
    if not (is_facilitator(user)):
        return select(Tavolo.id).where(false())
    return select(tavolo_facilitator.c.tavolo_id).where(tavolo_facilitator.c.user_id == user.id)


def moderated_tavoli(user) -> list[Tavolo]:
    return list(db.session.execute(
        select(Tavolo).where(Tavolo.id.in_(moderated_tavolo_ids(user)))
        .order_by(Tavolo.plan_id.desc(), Tavolo.position, Tavolo.title)
    ).scalars())


class RowPagination(Pagination):
    """flask_sqlalchemy's pagination over plain rows (a UNION has no single entity to return)."""

    def _query_items(self) -> list[Any]:
        statement = self._query_args["select"].limit(self.per_page).offset(self._query_offset)
        return list(db.session.execute(statement).all())

    def _query_count(self) -> int:
        sub = self._query_args["select"].order_by(None).subquery()
        return db.session.execute(select(func.count()).select_from(sub)).scalar_one()


# --------------------------------------------------------------------------- the queue

def _open_flags(column):
    """Per subject: number of open flags and when the first one came."""
    return (select(column.label("subject_id"), func.count(Flag.id).label("flags"),
                   func.min(Flag.created_at).label("since"))
            .where(column.is_not(None), Flag.resolved_at.is_(None))
            .group_by(column).subquery())


def _pending_proposal():
    return and_(Proposal.state == ProposalState.submitted.value, Proposal.visibility == Visibility.pending.value)


def _pending_comment():
    return Comment.visibility == Visibility.pending.value


def queue_statement(scope, tavolo_id: int | None = None):
    """(kind, id, since, pending) of what waits for a moderator, oldest first.

    Pending items wait since their creation; flagged ones since their first open flag.
    Withdrawn proposals and comments deleted by their authors are out of reach.
    """
    proposal_flags = _open_flags(Flag.proposal_id)
    comment_flags = _open_flags(Flag.comment_id)
    proposals = (
        select(literal("proposal").label("kind"), Proposal.id.label("id"),
               case((_pending_proposal(), Proposal.created_at), else_=proposal_flags.c.since).label("since"),
               case((_pending_proposal(), 1), else_=0).label("pending"))
        .outerjoin(proposal_flags, proposal_flags.c.subject_id == Proposal.id)
        .where(Proposal.tavolo_id.in_(scope), Proposal.state != ProposalState.withdrawn.value,
               or_(_pending_proposal(), proposal_flags.c.flags.is_not(None)))
    )
    comments = (
        select(literal("comment").label("kind"), Comment.id.label("id"),
               case((_pending_comment(), Comment.created_at), else_=comment_flags.c.since).label("since"),
               case((_pending_comment(), 1), else_=0).label("pending"))
        .outerjoin(comment_flags, comment_flags.c.subject_id == Comment.id)
        .where(Comment.tavolo_id.in_(scope), Comment.deleted_at.is_(None),
               or_(_pending_comment(), comment_flags.c.flags.is_not(None)))
    )
    if tavolo_id is not None:
        proposals = proposals.where(Proposal.tavolo_id == tavolo_id)
        comments = comments.where(Comment.tavolo_id == tavolo_id)
    united = union_all(proposals, comments).subquery()
    return select(united.c.kind, united.c.id, united.c.since, united.c.pending).order_by(
        united.c.since, united.c.kind, united.c.id)


@dataclass
class QueueItem:
    kind: str
    item: Any
    since: datetime
    flags: list[Flag] = field(default_factory=list)

    @property
    def token(self) -> str:
        return f"{self.kind[0]}-{self.item.id}"

    @property
    def status(self) -> str:
        """pending (waits for approval), provisional (hidden by flags), flagged (public, reported)."""
        if self.item.visibility == Visibility.pending:
            return "pending"
        if self.item.visibility == Visibility.hidden:
            return "provisional"
        return "flagged"

    @property
    def reasons(self) -> list[tuple[str, int]]:
        """(reason label, how many flags gave it), most frequent first."""
        counts: dict[str, int] = defaultdict(int)
        for one in self.flags:
            counts[one.reason_label] += 1
        return sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))

    @property
    def notes(self) -> list[str]:
        return [one.note for one in self.flags if one.note]


@dataclass
class Queue:
    pagination: Any
    items: list[QueueItem]
    pending: int = 0
    flagged: int = 0


def moderation_queue(user, *, tavolo: Tavolo | None = None, page: int = 1,
                     per_page: int = QUEUE_PER_PAGE) -> Queue:
    scope = moderated_tavolo_ids(user)
    statement = queue_statement(scope, tavolo.id if tavolo is not None else None)
    pagination = RowPagination(select=statement, page=page, per_page=per_page, max_per_page=per_page,
                               error_out=False)
    rows = pagination.items
    proposal_ids = [row.id for row in rows if row.kind == "proposal"]
    comment_ids = [row.id for row in rows if row.kind == "comment"]
    tavolo_loader = joinedload(Proposal.tavolo).selectinload(Tavolo.facilitators)
    proposals = {p.id: p for p in db.session.execute(
        select(Proposal).where(Proposal.id.in_(proposal_ids))
        .options(tavolo_loader, joinedload(Proposal.author), joinedload(Proposal.organisation))
    ).unique().scalars()} if proposal_ids else {}
    comments = {c.id: c for c in db.session.execute(
        select(Comment).where(Comment.id.in_(comment_ids))
        .options(joinedload(Comment.tavolo).selectinload(Tavolo.facilitators), joinedload(Comment.author),
                 joinedload(Comment.organisation), joinedload(Comment.proposal), joinedload(Comment.objective))
    ).unique().scalars()} if comment_ids else {}
    flags: dict[tuple[str, int], list[Flag]] = defaultdict(list)
    if rows:
        for one in db.session.execute(
            select(Flag).where(Flag.resolved_at.is_(None),
                               or_(Flag.proposal_id.in_(proposal_ids), Flag.comment_id.in_(comment_ids)))
            .order_by(Flag.created_at)
        ).scalars():
            key = ("proposal", one.proposal_id) if one.proposal_id is not None else ("comment", one.comment_id)
            flags[key].append(one)
    items = []
    for row in rows:
        item = proposals.get(row.id) if row.kind == "proposal" else comments.get(row.id)
        if item is not None:
            items.append(QueueItem(row.kind, item, row.since, flags.get((row.kind, row.id), [])))
    pending, flagged = queue_totals(scope, tavolo.id if tavolo is not None else None)
    return Queue(pagination=pagination, items=items, pending=pending, flagged=flagged)


def queue_totals(scope, tavolo_id: int | None = None) -> tuple[int, int]:
    """How many items wait for approval and how many are flagged, in the scope (one query)."""
    sub = queue_statement(scope, tavolo_id).order_by(None).subquery()
    total, pending = db.session.execute(select(func.count(sub.c.id), func.sum(sub.c.pending))).one()
    pending = int(pending or 0)
    return pending, total - pending


# --------------------------------------------------------------------------- dashboard

@dataclass
class TavoloDashboard:
    pending_proposals: int = 0
    pending_comments: int = 0
    flagged: int = 0
    register: Register = field(default_factory=Register)
    last_activity: datetime | None = None

    @property
    def pending(self) -> int:
        return self.pending_proposals + self.pending_comments


def dashboard_stats(tavoli: Iterable[Tavolo]) -> dict[int, TavoloDashboard]:
    """Per tavolo: pending items, flagged items, the response register (its counters), latest activity.

    Four GROUP BY queries whatever the number of tavoli.
    """
    stats = {t.id: TavoloDashboard(register=Register.of(t)) for t in tavoli}
    ids = sorted(stats)
    if not ids:
        return stats
    for tavolo_id, count in db.session.execute(
        select(Proposal.tavolo_id, func.count()).where(Proposal.tavolo_id.in_(ids), _pending_proposal())
        .group_by(Proposal.tavolo_id)
    ):
        stats[tavolo_id].pending_proposals = count
    for tavolo_id, count in db.session.execute(
        select(Comment.tavolo_id, func.count())
        .where(Comment.tavolo_id.in_(ids), _pending_comment(), Comment.deleted_at.is_(None))
        .group_by(Comment.tavolo_id)
    ):
        stats[tavolo_id].pending_comments = count
    # Flagged items (not flags): distinct subjects with an open flag, still within reach.
    for tavolo_id, proposals, comments in db.session.execute(
        select(Flag.tavolo_id, func.count(Flag.proposal_id.distinct()), func.count(Flag.comment_id.distinct()))
        .outerjoin(Proposal, Proposal.id == Flag.proposal_id)
        .outerjoin(Comment, Comment.id == Flag.comment_id)
        .where(Flag.tavolo_id.in_(ids), Flag.resolved_at.is_(None),
               or_(and_(Flag.proposal_id.is_not(None), Proposal.state != ProposalState.withdrawn.value),
                   and_(Flag.comment_id.is_not(None), Comment.deleted_at.is_(None))))
        .group_by(Flag.tavolo_id)
    ):
        stats[tavolo_id].flagged = proposals + comments
    moments = union_all(
        select(AuditEvent.tavolo_id.label("tavolo_id"), func.max(AuditEvent.at).label("at"))
        .where(AuditEvent.tavolo_id.in_(ids)).group_by(AuditEvent.tavolo_id),
        select(Comment.tavolo_id, func.max(Comment.created_at))
        .where(Comment.tavolo_id.in_(ids)).group_by(Comment.tavolo_id),
    ).subquery()
    for tavolo_id, at in db.session.execute(
        select(moments.c.tavolo_id, func.max(moments.c.at)).group_by(moments.c.tavolo_id)
    ):
        stats[tavolo_id].last_activity = _aware(at)
    return stats


def _aware(value):
    """MAX() over a union comes back as the raw driver value: make it an aware UTC datetime."""
    from datetime import UTC

    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --------------------------------------------------------------------------- public moderation log

@dataclass
class LogEntry:
    event: AuditEvent
    label: str
    automatic: bool
    subject_label: str
    subject_url: str | None
    detail: str | None
    actor_name: str | None


# What a log entry reads of a proposal: not its text, nor its answer.
_PROPOSAL_LABEL_COLUMNS = (Proposal.tavolo_id, Proposal.author_id, Proposal.title, Proposal.state,
                           Proposal.visibility, Proposal.merged_into_id)


# The loader options below are built once (on the first request, the mappers configured by then): they cost
# more to build than their statement costs to run.

@cache
def _proposal_label_loader(relationship):
    """A proposal of the log with the columns of its label, and the one it was merged into (a merge is final:
    it is the target the event recorded)."""
    return (joinedload(relationship) if relationship is not None else Load(Proposal)).options(
        load_only(*_PROPOSAL_LABEL_COLUMNS), joinedload(Proposal.merged_into).load_only(*_PROPOSAL_LABEL_COLUMNS))


@cache
def _actor_name_loader():
    """Of who acted, an entry shows the name."""
    return joinedload(AuditEvent.actor).options(load_only(User.display_name), lazyload(User.comune))


def _log_statement(tavolo: Tavolo):
    return (select(AuditEvent)
            .where(AuditEvent.tavolo_id == tavolo.id, AuditEvent.action.in_(public_actions()))
            .options(_actor_name_loader())
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()))


def _with_proposals(statement):
    """The log's `statement` with, beside each event about a proposal, that proposal (and the one it was
    merged into), in the same rows. The proposals are of the log's tavolo, already in the session: their
    `tavolo` resolves without SQL."""
    return (statement.add_columns(Proposal)
            .outerjoin(Proposal, and_(AuditEvent.subject_type == "proposal", Proposal.id == AuditEvent.subject_id))
            .options(_proposal_label_loader(None)))


def _describe(events: list[AuditEvent], viewer, read_along: Iterable[Proposal] = ()) -> list[LogEntry]:
    """Entries for the public log: what, when, why. Never a hidden text or a hidden title.

    `read_along`: the proposals read with the events; the others the entries name are read here, in one
    statement, and the comments in another (each only when there are some)."""
    from consulta.comments.queries import subject_url

    comment_ids = {e.subject_id for e in events if e.subject_type == "comment"}
    comments = {c.id: c for c in db.session.execute(
        select(Comment).where(Comment.id.in_(comment_ids))
        .options(_proposal_label_loader(Comment.proposal), joinedload(Comment.objective).lazyload(Objective.tavolo))
    ).unique().scalars()} if comment_ids else {}
    known = [*read_along, *(c.proposal for c in comments.values() if c.proposal is not None)]
    proposals = {p.id: p for p in known} | {p.merged_into.id: p.merged_into for p in known
                                            if p.merged_into is not None}
    merge_targets = {e.changes.get("merged_into_id", [None, None])[1] for e in events
                     if e.action == "proposal.merge"} - {None}
    missing = ({e.subject_id for e in events if e.subject_type == "proposal"} | merge_targets) - set(proposals)
    if missing:
        proposals.update((p.id, p) for p in db.session.execute(
            select(Proposal).where(Proposal.id.in_(missing)).options(_proposal_label_loader(None))
        ).unique().scalars())

    def proposal_label(proposal) -> tuple[str, str | None]:
        if proposal is None:
            return str(_l("una proposta non più disponibile")), None
        url = subject_url(proposal)
        if not proposal.can_view(viewer):
            return str(_l("una proposta non pubblica")), None
        if not proposal.can_read_text(viewer):
            return str(_l("una proposta nascosta")), url
        return f"«{proposal.title}»", url

    entries = []
    for event in events:
        automatic = event.actor_id is None and bool(event.changes.get("automatic"))
        label = action_label(event.action, automatic=automatic)
        details = []
        if event.subject_type == "proposal":
            subject_label, url = proposal_label(proposals.get(event.subject_id))
            state = (event.changes.get("state") or [None, None])[1]
            if event.action in ("proposal.answer", "minutes.decision") and state in OUTCOME_LABELS:
                details.append(str(_l("Esito: %(outcome)s", outcome=str(OUTCOME_LABELS[state]).lower())))
            elif event.action == "proposal.merge":
                target_id = (event.changes.get("merged_into_id") or [None, None])[1]
                target_label, _url = proposal_label(proposals.get(target_id))
                details.append(str(_l("Unita a %(target)s", target=target_label)))
        else:
            comment = comments.get(event.subject_id)
            if comment is None:
                subject_label, url = str(_l("un commento non più disponibile")), None
            else:
                on = comment.proposal if comment.proposal_id else comment.objective
                if comment.proposal_id:
                    on_label, _url = proposal_label(proposals.get(comment.proposal_id))
                else:
                    on_label = f"«{on.title}»" if on is not None and on.can_view(viewer) else str(
                        _l("un obiettivo"))
                subject_label = str(_l("un commento su %(subject)s", subject=on_label))
                url = (url_for("comments.permalink", comment_id=comment.id)
                       if on is not None and on.can_view(viewer) else None)
        if event.reason_text:
            hiding = event.action.endswith((".hide", ".hide_confirmed"))
            details.append(str(_l("Motivo: %(reason)s", reason=event.reason_text)) if hiding else event.reason_text)
        actor_name = event.actor.display_name if event.actor is not None else None
        entries.append(LogEntry(event, label, automatic, subject_label, url, " · ".join(details) or None,
                                actor_name))
    return entries


def moderation_log(tavolo: Tavolo, viewer, *, per_page: int = LOG_PER_PAGE):
    """One page of the tavolo's public moderation log (by number, or after a "next page" cursor) and its
    entries."""
    pagination = keyset.paginate(_log_statement(tavolo), (AuditEvent.at, AuditEvent.id), name="moderation-log",
                                 per_page=per_page, page_param="page", error_out=False)
    return pagination, _describe(list(pagination.items), viewer)


def latest_moderation_acts(tavolo: Tavolo, viewer, limit: int = LOG_PREVIEW) -> tuple[list[LogEntry], bool]:
    """The latest acts for the tavolo page, and whether there are more than shown: one statement, with the
    proposals they are about (one more for the comments, when some are about comments)."""
    rows = db.session.execute(_with_proposals(_log_statement(tavolo)).limit(limit + 1)).all()
    shown = rows[:limit]
    return (_describe([event for event, _ in shown], viewer, [p for _, p in shown if p is not None]),
            len(rows) > limit)


# --------------------------------------------------------------------------- flags on a page

def open_flags_of(item) -> list[Flag]:
    column = Flag.proposal_id if item.__tablename__ == "proposal" else Flag.comment_id
    return list(db.session.execute(
        select(Flag).where(column == item.id, Flag.resolved_at.is_(None)).order_by(Flag.created_at)).scalars())


def user_has_flagged(user, item) -> bool:
    if not is_authenticated(user):
        return False
    column = Flag.proposal_id if item.__tablename__ == "proposal" else Flag.comment_id
    return db.session.execute(
        select(Flag.id).where(column == item.id, Flag.reporter_id == user.id)).first() is not None


def flagged_comment_ids(user, comment_ids: Iterable[int]) -> set[int]:
    """The comments of a thread this user has already flagged (one query)."""
    ids = list(comment_ids)
    if not is_authenticated(user) or not ids:
        return set()
    return set(db.session.execute(
        select(Flag.comment_id).where(Flag.reporter_id == user.id, Flag.comment_id.in_(ids))).scalars())

