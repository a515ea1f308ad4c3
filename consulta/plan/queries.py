"""Reading the plan record: one load with explicit loader options for the whole tree,
budget totals and tallies computed in SQL, the inputs still to take in, the history.

Money is summed in SQL as whole cents (`round(amount * 100)`): exact on PostgreSQL's
NUMERIC and on SQLite, whose NUMERIC values are doubles but integral cents below
2**53 add up exactly; Python turns the cents back into Decimal euros.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache

from sqlalchemy import (
    String,
    and_,
    bindparam,
    cast,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import joinedload, selectinload

from consulta.extensions import db
from consulta.plan.record import (
    ACTION_STATUS_LABELS,
    FUNDING_SOURCE_LABELS,
    FUNDING_SOURCE_SHORT,
    BudgetLine,
    Indicator,
    PlanAction,
    PlanArea,
    PlanInput,
    PlanObjective,
    PlanRevision,
    ProgressUpdate,
    plan_action_comune,
    plan_area_tavolo,
)

CENT = Decimal("0.01")


def cents_sum(column):
    return func.coalesce(func.sum(func.round(column * 100)), 0)


def euros(cents) -> Decimal:
    return (Decimal(int(cents or 0)) / 100).quantize(CENT)


# --------------------------------------------------------------------------- the tree

def _input_options(relationship):
    """Each input with its decision, the minutes (and meeting), the proposal (and organisation)."""
    from consulta.meetings.models import Decision, Minutes
    from consulta.proposals.models import Proposal

    return (
        selectinload(relationship).options(
            joinedload(PlanInput.decision).joinedload(Decision.minutes).joinedload(Minutes.meeting),
            joinedload(PlanInput.proposal).joinedload(Proposal.organisation),
            joinedload(PlanInput.objective),
        ),
    )


def record_tree(plan_id: int, *, action_filter=None) -> list[PlanArea]:
    """Areas → objectives → actions with everything the plan page shows, in a fixed number of queries.

    `action_filter` (a SQL condition on PlanAction) narrows the actions, e.g. to one comune.
    """
    actions = PlanObjective.actions
    if action_filter is not None:
        actions = actions.and_(action_filter)
    action_options = selectinload(PlanArea.objectives).selectinload(actions)
    stmt = (
        select(PlanArea).where(PlanArea.plan_id == plan_id)
        .order_by(PlanArea.position, PlanArea.id)
        .options(
            selectinload(PlanArea.tavoli),
            selectinload(PlanArea.objectives).options(*_input_options(PlanObjective.inputs)),
            action_options.options(
                selectinload(PlanAction.comuni),
                selectinload(PlanAction.indicators),
                selectinload(PlanAction.budget_lines),
                selectinload(PlanAction.progress_updates).selectinload(ProgressUpdate.values),
                *_input_options(PlanAction.inputs),
            ),
        )
    )
    return list(db.session.execute(stmt).scalars())


def all_actions(areas: Iterable[PlanArea]) -> list[PlanAction]:
    return [a for area in areas for o in area.objectives for a in o.actions]


def all_inputs(areas: Iterable[PlanArea]) -> list[PlanInput]:
    rows = []
    for area in areas:
        for objective in area.objectives:
            rows.extend(objective.inputs)
            for action in objective.actions:
                rows.extend(action.inputs)
    return rows


# --------------------------------------------------------------------------- origin tallies

def origin_tallies(inputs: Iterable[PlanInput]):
    """Tallies by category of every proposal and draft objective behind the inputs: two GROUP BY queries.

    Returns {("proposal" | "objective", id): votes.tally.Tally}.
    """
    from consulta.organisations.models import CATEGORIES
    from consulta.votes.models import Vote
    from consulta.votes.tally import CategoryTotals, Tally

    wanted = {"proposal": set(), "objective": set()}
    for row in inputs:
        wanted[row.subject_type].add(row.proposal_id or row.objective_id)
    result = {}
    for kind, ids in wanted.items():
        for ident in ids:
            result[(kind, ident)] = Tally(by_category=[CategoryTotals(category=c) for c in CATEGORIES])
        if not ids:
            continue
        column = Vote.proposal_id if kind == "proposal" else Vote.objective_id
        rows = db.session.execute(
            select(column, Vote.category, Vote.value, func.count(Vote.id))
            .where(column.in_(ids)).group_by(column, Vote.category, Vote.value)
        ).all()
        for ident, category, value, count in rows:
            tally = result[(kind, ident)]
            tally.totals.add(value, count)
            row = next((r for r in tally.by_category if r.category == category), None)
            if row is None:
                row = CategoryTotals(category=category)
                tally.by_category.append(row)
            row.add(value, count)
    return result


# --------------------------------------------------------------------------- budget totals

@dataclass
class TotalRow:
    key: str
    label: str
    amount: Decimal
    short_label: str = ""

    @property
    def chart_label(self) -> str:
        return self.short_label or self.label


@dataclass
class BudgetTotals:
    total: Decimal
    by_area: list[TotalRow] = field(default_factory=list)
    by_source: list[TotalRow] = field(default_factory=list)
    by_year: list[TotalRow] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return self.total == 0


def budget_totals(plan_id: int, *, action_filter=None) -> BudgetTotals:
    """Totals by area, funding source and year, each one GROUP BY in SQL (the total adds up the sources)."""
    lines = (select(BudgetLine.id).join(PlanAction, BudgetLine.action_id == PlanAction.id)
             .where(BudgetLine.plan_id == plan_id))
    if action_filter is not None:
        lines = lines.where(action_filter)
    scope = BudgetLine.id.in_(lines.scalar_subquery())

    by_area = db.session.execute(
        select(PlanArea.id, PlanArea.title, cents_sum(BudgetLine.amount))
        .join(PlanObjective, PlanObjective.area_id == PlanArea.id)
        .join(PlanAction, PlanAction.objective_id == PlanObjective.id)
        .join(BudgetLine, BudgetLine.action_id == PlanAction.id)
        .where(PlanArea.plan_id == plan_id, scope)
        .group_by(PlanArea.id, PlanArea.title, PlanArea.position)
        .order_by(PlanArea.position, PlanArea.id)
    ).all()
    by_source = db.session.execute(
        select(BudgetLine.funding_source, cents_sum(BudgetLine.amount)).where(scope)
        .group_by(BudgetLine.funding_source)
    ).all()
    by_year = db.session.execute(
        select(BudgetLine.year, cents_sum(BudgetLine.amount)).where(scope)
        .group_by(BudgetLine.year).order_by(BudgetLine.year)
    ).all()
    order = list(FUNDING_SOURCE_LABELS)
    return BudgetTotals(
        total=euros(sum(cents for _source, cents in by_source)),  # every line has a source: the sum of all
        by_area=[TotalRow(str(i), t, euros(c)) for i, t, c in by_area],
        by_source=[TotalRow(s, str(FUNDING_SOURCE_LABELS[s]), euros(c), str(FUNDING_SOURCE_SHORT[s]))
                   for s, c in sorted(by_source, key=lambda r: order.index(r[0]))],
        by_year=[TotalRow(str(y), str(y), euros(c)) for y, c in by_year],
    )


def status_counts(plan_id: int) -> list[tuple[str, str, int]]:
    """How many actions are in each monitoring status: (status, label, count), every status listed."""
    counts = dict(db.session.execute(
        select(PlanAction.status, func.count()).where(PlanAction.plan_id == plan_id).group_by(PlanAction.status)
    ).all())
    return [(s, str(label), counts.get(s, 0)) for s, label in ACTION_STATUS_LABELS.items()]


# --------------------------------------------------------------------------- per comune

def comune_filter(comune_id: int):
    """Actions for the whole Ambito or naming this comune."""
    return or_(PlanAction.all_comuni.is_(True), exists().where(
        and_(plan_action_comune.c.action_id == PlanAction.id, plan_action_comune.c.comune_id == comune_id)))


# --------------------------------------------------------------------------- progress against targets

@dataclass
class Progress:
    indicator: Indicator
    value: Decimal | None
    reported_on: object | None

    @property
    def percent(self) -> int | None:
        target = self.indicator.target
        if self.value is None or not target:
            return None
        return int(min(Decimal(100), self.value * 100 / target).to_integral_value())

    @property
    def bar_class(self) -> str:
        """Width class in 5 % steps (no inline style under the CSP)."""
        percent = self.percent or 0
        return f"plan-w-{int(round(percent / 5) * 5)}"


def progress_of(action: PlanAction) -> list[Progress]:
    """The latest value reached by each indicator (updates are loaded newest first)."""
    latest: dict[int, tuple] = {}
    for update in action.progress_updates:
        for value in update.values:
            latest.setdefault(value.indicator_id, (value.value, update.reported_on))
    return [Progress(i, *latest.get(i.id, (None, None))) for i in action.indicators]


# --------------------------------------------------------------------------- inputs still to take in

def pending_decisions(plan_id: int, *, tavolo_ids: Iterable[int] | None = None):
    """Approving decisions of this plan's tavoli not yet used by any plan item ("da recepire")."""
    from consulta.meetings.models import Decision, Minutes
    from consulta.plan.record_operations import eligible_decisions

    stmt = eligible_decisions(plan_id).where(~exists().where(PlanInput.decision_id == Decision.id))
    if tavolo_ids is not None:
        stmt = stmt.where(Minutes.tavolo_id.in_(list(tavolo_ids)))
    stmt = stmt.options(joinedload(Decision.minutes).joinedload(Minutes.meeting),
                        joinedload(Decision.minutes).joinedload(Minutes.tavolo))
    return list(db.session.execute(stmt.order_by(Minutes.approved_at, Decision.id)).unique().scalars())


def pending_count(plan_id: int) -> int:
    from consulta.meetings.models import Decision
    from consulta.plan.record_operations import eligible_decisions

    stmt = eligible_decisions(plan_id).where(~exists().where(PlanInput.decision_id == Decision.id))
    return db.session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()


def pending_counts_by_tavolo(tavolo_ids: Iterable[int]) -> dict[int, int]:
    """Per tavolo, its approved decisions the plan has not taken in yet (one query)."""
    from consulta.meetings.models import Decision, Minutes
    from consulta.plan.record_operations import eligible_decisions

    ids = sorted({int(i) for i in tavolo_ids})
    if not ids:
        return {}
    stmt = (eligible_decisions(tavolo_ids=ids).where(~exists().where(PlanInput.decision_id == Decision.id))
            .with_only_columns(Minutes.tavolo_id, func.count(Decision.id)).group_by(Minutes.tavolo_id))
    return dict(db.session.execute(stmt).all())


# --------------------------------------------------------------------------- history

def revisions_page(plan_id: int, *, owner: tuple[str, int] | None = None, page: int | None = None,
                   per_page: int = 50):
    """The change log, newest first, paginated by rows (a batch may span two pages)."""
    stmt = select(PlanRevision).where(PlanRevision.plan_id == plan_id)
    if owner is not None:
        kind, ident = owner
        stmt = stmt.where(or_(and_(PlanRevision.owner_type == kind, PlanRevision.owner_id == ident),
                              and_(PlanRevision.item_type == kind, PlanRevision.item_id == ident)))
    stmt = stmt.order_by(PlanRevision.changed_at.desc(), PlanRevision.id.desc())
    return db.paginate(stmt, page=page, per_page=per_page, max_per_page=per_page, error_out=False)


@dataclass
class RevisionGroup:
    """The rows of one operation, shown together."""

    first: PlanRevision
    rows: list[PlanRevision]


def group_revisions(rows: list[PlanRevision]) -> list[RevisionGroup]:
    groups: list[RevisionGroup] = []
    for row in rows:
        if groups and groups[-1].first.batch == row.batch:
            groups[-1].rows.append(row)
        else:
            groups.append(RevisionGroup(row, [row]))
    for group in groups:
        group.rows.sort(key=lambda r: r.id)
    return groups


# --------------------------------------------------------------------------- one plan, ready to show

@dataclass
class PlanContext:
    plan: object
    areas: list[PlanArea]
    totals: BudgetTotals
    tallies: dict

    @property
    def actions(self) -> list[PlanAction]:
        return all_actions(self.areas)

    def tally_of(self, row: PlanInput):
        return self.tallies[(row.subject_type, row.proposal_id or row.objective_id)]


def plan_context(plan, *, action_filter=None) -> PlanContext:
    """The tree, its totals and the tallies behind its inputs: a fixed number of queries."""
    areas = record_tree(plan.id, action_filter=action_filter)
    return PlanContext(plan=plan, areas=areas, totals=budget_totals(plan.id, action_filter=action_filter),
                       tallies=origin_tallies(all_inputs(areas)))


# --------------------------------------------------------------------------- what the page's body names

STAMP_WIDTH = 5  # columns of each row of the stamp's UNION: a kind and up to four values


def _stamp_rows(kind: str, stmt):
    """`stmt`'s rows as text, after their kind and padded to STAMP_WIDTH, for one UNION of all parts."""
    columns = [cast(c, String) for c in stmt.selected_columns]
    padding = [cast(null(), String)] * (STAMP_WIDTH - 1 - len(columns))
    return stmt.with_only_columns(cast(literal(kind), String), *columns, *padding)


@cache
def _stamp_statement():
    """The query of content_stamp, built once: one UNION of small SELECTs, each row tagged by its kind."""
    from consulta.ambito.models import Comune
    from consulta.meetings.models import Decision, Meeting, Minutes
    from consulta.organisations.models import Organisation
    from consulta.proposals.models import Proposal
    from consulta.tavoli.models import Objective, Tavolo
    from consulta.votes.models import Vote

    plan_id = bindparam("plan_id")

    decisions = select(PlanInput.decision_id).where(PlanInput.plan_id == plan_id)
    minutes = select(Decision.minutes_id).where(Decision.id.in_(decisions))
    proposals = select(PlanInput.proposal_id).where(PlanInput.plan_id == plan_id, PlanInput.proposal_id.is_not(None))
    objectives = select(PlanInput.objective_id).where(PlanInput.plan_id == plan_id,
                                                      PlanInput.objective_id.is_not(None))
    area_links = (select(plan_area_tavolo.c.area_id, plan_area_tavolo.c.tavolo_id)
                  .join(PlanArea, PlanArea.id == plan_area_tavolo.c.area_id).where(PlanArea.plan_id == plan_id))
    tavoli = or_(Tavolo.id.in_(select(area_links.subquery().c.tavolo_id)),
                 Tavolo.id.in_(select(Objective.tavolo_id).where(Objective.id.in_(objectives))))
    parts = {
        "revisions": select(func.count()).select_from(PlanRevision).where(PlanRevision.plan_id == plan_id),
        "decision": select(Decision.id, Decision.outcome, Decision.minutes_id).where(Decision.id.in_(decisions)),
        "minutes": select(Minutes.id, Minutes.content_hash, Minutes.meeting_id).where(Minutes.id.in_(minutes)),
        "meeting": select(Meeting.id, Meeting.title, Meeting.starts_at)
        .where(Meeting.id.in_(select(Minutes.meeting_id).where(Minutes.id.in_(minutes)))),
        "proposal": select(Proposal.id, Proposal.title, Proposal.category, Proposal.organisation_id)
        .where(Proposal.id.in_(proposals)),
        "organisation": select(Organisation.id, Organisation.name, Organisation.type)
        .where(Organisation.id.in_(select(Proposal.organisation_id).where(Proposal.id.in_(proposals)))),
        "objective": select(Objective.id, Objective.title, Objective.tavolo_id).where(Objective.id.in_(objectives)),
        "area_tavolo": area_links,
        "tavolo": select(Tavolo.id, Tavolo.slug, Tavolo.title, Tavolo.phase).where(tavoli),
        "comune": select(Comune.id, Comune.name, Comune.slug),
        "votes_proposal": select(Vote.proposal_id, Vote.category, Vote.value, func.count())
        .where(Vote.proposal_id.in_(proposals)).group_by(Vote.proposal_id, Vote.category, Vote.value),
        "votes_objective": select(Vote.objective_id, Vote.category, Vote.value, func.count())
        .where(Vote.objective_id.in_(objectives)).group_by(Vote.objective_id, Vote.category, Vote.value),
    }
    return union_all(*(_stamp_rows(kind, stmt) for kind, stmt in parts.items()))


def content_stamp(plan_id: int) -> str:
    """A digest of all the public plan page's body shows, in one query.

    The record itself (areas, objectives, actions, their comuni, indicators, budget lines, progress and
    provenance links) changes only through plan/record_operations.py, which writes at least one
    PlanRevision for each change and never deletes one: their count grows with every committed change.
    The rest belongs to other domains and changes there (a tavolo renamed, a vote cast on a proposal
    behind an action, a comune renamed): it is read here as the values the page prints, so any change of
    them changes the digest. Keep this in step with templates/plan/_body.html.
    """
    rows = db.session.execute(_stamp_statement(), {"plan_id": plan_id}).all()
    text = "\n".join(sorted(repr(tuple(row)) for row in rows))  # the UNION's order is not defined
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
