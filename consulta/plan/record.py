"""The plan record: areas → objectives → actions, with indicators, budget lines,
monitoring, the provenance of every item (PlanInput) and its change history
(PlanRevision, grouped in RevisionSets after adoption).

Invariants kept by the database:
* every row knows its plan, and composite foreign keys (parent id, plan id) make
  it impossible for an action to sit under another plan's objective, or for a
  budget line to belong to another plan's action;
* money is NUMERIC(14, 2), positive; years and dates are ordered by CHECKs;
* a plan has at most one open aggiornamento (partial unique index).

The freeze after adoption is enforced by the operations (409) and, for any code
path that bypasses them, by `_refuse_changes_to_frozen_record` before a flush.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from flask import has_request_context
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    inspect,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from consulta.core.db import enum_check, enum_column, utcnow
from consulta.core.permissions import facilitates, is_admin
from consulta.core.states import TransitionError
from consulta.extensions import db

if TYPE_CHECKING:
    from consulta.ambito.models import Comune
    from consulta.meetings.models import Decision
    from consulta.plan.models import Plan
    from consulta.proposals.models import Proposal
    from consulta.tavoli.models import Objective, Tavolo

MONEY = Numeric(14, 2)
FIRST_YEAR, LAST_YEAR = 2000, 2100


class FundingSource(StrEnum):
    fnps = "fnps"
    fna = "fna"
    fondo_poverta = "fondo_poverta"
    comunali = "comunali"
    compartecipazione = "compartecipazione"
    fse_plus = "fse_plus"
    pnrr = "pnrr"
    altro = "altro"


FUNDING_SOURCE_LABELS = {
    "fnps": _l("FNPS – Fondo nazionale politiche sociali"),
    "fna": _l("FNA – Fondo per le non autosufficienze"),
    "fondo_poverta": _l("Fondo Povertà"),
    "comunali": _l("Risorse comunali"),
    "compartecipazione": _l("Compartecipazione degli utenti"),
    "fse_plus": _l("FSE+ – Fondo sociale europeo"),
    "pnrr": _l("PNRR"),
    "altro": _l("Altre risorse"),
}
# Short names for charts and narrow tables.
FUNDING_SOURCE_SHORT = {
    "fnps": "FNPS", "fna": "FNA", "fondo_poverta": _l("Fondo Povertà"), "comunali": _l("Risorse comunali"),
    "compartecipazione": _l("Compartecipazione utenti"), "fse_plus": "FSE+", "pnrr": "PNRR",
    "altro": _l("Altro"),
}


class ActionStatus(StrEnum):
    planned = "planned"
    in_progress = "in_progress"
    done = "done"
    suspended = "suspended"
    cancelled = "cancelled"


ACTION_STATUS_LABELS = {
    "planned": _l("Programmata"),
    "in_progress": _l("In corso"),
    "done": _l("Conclusa"),
    "suspended": _l("Sospesa"),
    "cancelled": _l("Annullata"),
}


class RevisionKind(StrEnum):
    drafting = "drafting"          # before adoption
    aggiornamento = "aggiornamento"  # inside a revision set, after adoption
    monitoring = "monitoring"      # action status and progress, while monitoring


REVISION_KIND_LABELS = {
    "drafting": _l("Redazione"),
    "aggiornamento": _l("Aggiornamento"),
    "monitoring": _l("Monitoraggio"),
}


# =========================================================================== permissions

def _facilitates_any(user, tavoli) -> bool:
    return any(facilitates(user, t) for t in tavoli)


class RecordItem:
    """What areas, objectives and actions share: the area decides who may edit."""

    @property
    def owning_area(self) -> PlanArea:
        raise NotImplementedError

    def can_manage(self, user) -> bool:
        """May work on this part of the record at all (permission, whatever the plan's state)."""
        return self.owning_area.can_manage(user)

    def can_edit(self, user) -> bool:
        """May change it now: permission and a plan that is not frozen."""
        return self.can_manage(user) and self.owning_area.plan.record_editable

    def can_monitor(self, user) -> bool:
        return self.can_manage(user) and self.owning_area.plan.is_monitoring


# =========================================================================== structure

plan_area_tavolo = Table(
    "plan_area_tavolo",
    db.metadata,
    Column("area_id", ForeignKey("plan_area.id", ondelete="CASCADE"), primary_key=True),
    Column("tavolo_id", ForeignKey("tavolo.id", ondelete="CASCADE"), primary_key=True),
)

plan_action_comune = Table(
    "plan_action_comune",
    db.metadata,
    Column("action_id", ForeignKey("plan_action.id", ondelete="CASCADE"), primary_key=True),
    Column("comune_id", ForeignKey("comune.id", ondelete="RESTRICT"), primary_key=True),
)


class PlanArea(RecordItem, db.Model):
    """An area of intervention of the plan (Anziani, Disabilità…), linked to the tavoli that feed it."""

    __tablename__ = "plan_area"
    __table_args__ = (
        UniqueConstraint("id", "plan_id", name="uq_plan_area_id_plan"),
        CheckConstraint("length(title) > 0", name="title_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    plan: Mapped[Plan] = relationship()
    tavoli: Mapped[list[Tavolo]] = relationship(secondary=plan_area_tavolo, order_by="Tavolo.position")
    objectives: Mapped[list[PlanObjective]] = relationship(
        back_populates="area", order_by="(PlanObjective.position, PlanObjective.id)",
        foreign_keys="PlanObjective.area_id", primaryjoin="PlanArea.id == PlanObjective.area_id")

    def __repr__(self) -> str:
        return f"<PlanArea {self.id} {self.title!r}>"

    @property
    def owning_area(self) -> PlanArea:
        return self

    @property
    def anchor(self) -> str:
        return f"area-{self.id}"

    def can_manage(self, user) -> bool:
        return is_admin(user) or _facilitates_any(user, self.tavoli)

    def can_edit_settings(self, user) -> bool:
        """Title, description and linked tavoli: the Ufficio di Piano decides the areas."""
        return is_admin(user) and self.plan.record_editable


class PlanObjective(RecordItem, db.Model):
    __tablename__ = "plan_objective"
    __table_args__ = (
        UniqueConstraint("id", "plan_id", name="uq_plan_objective_id_plan"),
        ForeignKeyConstraint(["area_id", "plan_id"], ["plan_area.id", "plan_area.plan_id"],
                             name="fk_plan_objective_area_plan", ondelete="CASCADE"),
        CheckConstraint("length(title) > 0", name="title_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    area_id: Mapped[int] = mapped_column(index=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    area: Mapped[PlanArea] = relationship(back_populates="objectives", foreign_keys=[area_id],
                                          primaryjoin="PlanObjective.area_id == PlanArea.id")
    actions: Mapped[list[PlanAction]] = relationship(
        back_populates="objective", order_by="(PlanAction.position, PlanAction.id)",
        foreign_keys="PlanAction.objective_id", primaryjoin="PlanObjective.id == PlanAction.objective_id")
    inputs: Mapped[list[PlanInput]] = relationship(
        back_populates="plan_objective", order_by="PlanInput.id", foreign_keys="PlanInput.plan_objective_id",
        primaryjoin="PlanObjective.id == PlanInput.plan_objective_id")

    def __repr__(self) -> str:
        return f"<PlanObjective {self.id} {self.title!r}>"

    @property
    def owning_area(self) -> PlanArea:
        return self.area

    @property
    def anchor(self) -> str:
        return f"obiettivo-{self.id}"


class PlanAction(RecordItem, db.Model):
    __tablename__ = "plan_action"
    __table_args__ = (
        UniqueConstraint("id", "plan_id", name="uq_plan_action_id_plan"),
        ForeignKeyConstraint(["objective_id", "plan_id"], ["plan_objective.id", "plan_objective.plan_id"],
                             name="fk_plan_action_objective_plan", ondelete="CASCADE"),
        enum_check("status", ActionStatus),
        CheckConstraint("end_date IS NULL OR start_date IS NULL OR end_date >= start_date", name="end_after_start"),
        CheckConstraint("length(title) > 0", name="title_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    objective_id: Mapped[int] = mapped_column(index=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str] = mapped_column(Text, default="")
    beneficiaries: Mapped[str] = mapped_column(String(1000), default="")
    responsible_body: Mapped[str] = mapped_column(String(200), default="")
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    # True: every comune of the Ambito (and `comuni` stays empty); False: the comuni listed.
    all_comuni: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    status: Mapped[str] = enum_column(ActionStatus, default=ActionStatus.planned)
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    objective: Mapped[PlanObjective] = relationship(back_populates="actions", foreign_keys=[objective_id],
                                                    primaryjoin="PlanAction.objective_id == PlanObjective.id")
    comuni: Mapped[list[Comune]] = relationship(secondary=plan_action_comune, order_by="Comune.name")
    indicators: Mapped[list[Indicator]] = relationship(
        back_populates="action", order_by="(Indicator.position, Indicator.id)", cascade="all, delete-orphan",
        foreign_keys="Indicator.action_id", primaryjoin="PlanAction.id == Indicator.action_id")
    budget_lines: Mapped[list[BudgetLine]] = relationship(
        back_populates="action", order_by="(BudgetLine.year, BudgetLine.id)", cascade="all, delete-orphan",
        foreign_keys="BudgetLine.action_id", primaryjoin="PlanAction.id == BudgetLine.action_id")
    inputs: Mapped[list[PlanInput]] = relationship(
        back_populates="plan_action", order_by="PlanInput.id", foreign_keys="PlanInput.plan_action_id",
        primaryjoin="PlanAction.id == PlanInput.plan_action_id")
    progress_updates: Mapped[list[ProgressUpdate]] = relationship(
        back_populates="action", order_by="(ProgressUpdate.reported_on.desc(), ProgressUpdate.id.desc())",
        cascade="all, delete-orphan", foreign_keys="ProgressUpdate.action_id",
        primaryjoin="PlanAction.id == ProgressUpdate.action_id")

    def __repr__(self) -> str:
        return f"<PlanAction {self.id} {self.title!r}>"

    @property
    def owning_area(self) -> PlanArea:
        return self.objective.area

    @property
    def anchor(self) -> str:
        return f"azione-{self.id}"

    @property
    def status_label(self) -> str:
        return str(ACTION_STATUS_LABELS[self.status])

    @property
    def budget_total(self) -> Decimal:
        # Exact: Decimal sums of NUMERIC values already loaded with the action.
        return sum((line.amount for line in self.budget_lines), Decimal("0.00"))

    def comuni_label(self) -> str:
        if self.all_comuni:
            return gettext("Tutti i comuni dell'Ambito")
        return ", ".join(c.name for c in self.comuni)


class Indicator(db.Model):
    """How an action's result is measured, with the value it aims at."""

    __tablename__ = "plan_indicator"
    __table_args__ = (
        ForeignKeyConstraint(["action_id", "plan_id"], ["plan_action.id", "plan_action.plan_id"],
                             name="fk_plan_indicator_action_plan", ondelete="CASCADE"),
        CheckConstraint("target >= 0", name="target_not_negative"),
        CheckConstraint("baseline IS NULL OR baseline >= 0", name="baseline_not_negative"),
        CheckConstraint("length(name) > 0", name="name_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    action_id: Mapped[int] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(40), default="")
    baseline: Mapped[Decimal | None] = mapped_column(MONEY)
    target: Mapped[Decimal] = mapped_column(MONEY)
    position: Mapped[int] = mapped_column(default=0)

    action: Mapped[PlanAction] = relationship(back_populates="indicators", foreign_keys=[action_id],
                                              primaryjoin="Indicator.action_id == PlanAction.id")


class BudgetLine(db.Model):
    """An amount in euro from one funding source, for one year."""

    __tablename__ = "plan_budget_line"
    __table_args__ = (
        ForeignKeyConstraint(["action_id", "plan_id"], ["plan_action.id", "plan_action.plan_id"],
                             name="fk_plan_budget_line_action_plan", ondelete="CASCADE"),
        enum_check("funding_source", FundingSource),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(f"year BETWEEN {FIRST_YEAR} AND {LAST_YEAR}", name="year_range"),
        Index("ix_plan_budget_line_plan_year", "plan_id", "year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"))
    action_id: Mapped[int] = mapped_column(index=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    funding_source: Mapped[str] = enum_column(FundingSource)
    year: Mapped[int]
    note: Mapped[str] = mapped_column(String(300), default="")

    action: Mapped[PlanAction] = relationship(back_populates="budget_lines", foreign_keys=[action_id],
                                              primaryjoin="BudgetLine.action_id == PlanAction.id")

    @property
    def funding_source_label(self) -> str:
        return str(FUNDING_SOURCE_LABELS[self.funding_source])


# =========================================================================== monitoring

class ProgressUpdate(db.Model):
    """A monitoring note on an action: what happened by a date, with indicator values reached."""

    __tablename__ = "plan_progress_update"
    __table_args__ = (
        ForeignKeyConstraint(["action_id", "plan_id"], ["plan_action.id", "plan_action.plan_id"],
                             name="fk_plan_progress_update_action_plan", ondelete="CASCADE"),
        CheckConstraint("length(text) > 0", name="text_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"))
    action_id: Mapped[int] = mapped_column(index=True)
    reported_on: Mapped[date]
    text: Mapped[str] = mapped_column(Text)
    text_html: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    author_name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    action: Mapped[PlanAction] = relationship(back_populates="progress_updates", foreign_keys=[action_id],
                                              primaryjoin="ProgressUpdate.action_id == PlanAction.id")
    values: Mapped[list[IndicatorValue]] = relationship(
        back_populates="update", cascade="all, delete-orphan", order_by="IndicatorValue.id")


class IndicatorValue(db.Model):
    __tablename__ = "plan_indicator_value"
    __table_args__ = (
        UniqueConstraint("update_id", "indicator_id"),
        CheckConstraint("value >= 0", name="value_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(ForeignKey("plan_progress_update.id", ondelete="CASCADE"))
    indicator_id: Mapped[int] = mapped_column(ForeignKey("plan_indicator.id", ondelete="CASCADE"), index=True)
    value: Mapped[Decimal] = mapped_column(MONEY)

    update: Mapped[ProgressUpdate] = relationship(back_populates="values")
    indicator: Mapped[Indicator] = relationship()


# =========================================================================== provenance

class PlanInput(db.Model):
    """Where a plan objective or action came from: the minutes decision that approved a
    proposal or a draft objective of a tavolo of the same plan."""

    __tablename__ = "plan_input"
    __table_args__ = (
        ForeignKeyConstraint(["plan_objective_id", "plan_id"], ["plan_objective.id", "plan_objective.plan_id"],
                             name="fk_plan_input_objective_plan", ondelete="CASCADE"),
        ForeignKeyConstraint(["plan_action_id", "plan_id"], ["plan_action.id", "plan_action.plan_id"],
                             name="fk_plan_input_action_plan", ondelete="CASCADE"),
        CheckConstraint("(plan_objective_id IS NULL) != (plan_action_id IS NULL)", name="one_target"),
        CheckConstraint("(proposal_id IS NULL) != (objective_id IS NULL)", name="one_subject"),
        UniqueConstraint("decision_id", "plan_objective_id", name="uq_plan_input_decision_objective"),
        UniqueConstraint("decision_id", "plan_action_id", name="uq_plan_input_decision_action"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    plan_objective_id: Mapped[int | None] = mapped_column(index=True)
    plan_action_id: Mapped[int | None] = mapped_column(index=True)
    # The decision is part of approved minutes, which are never deleted.
    decision_id: Mapped[int] = mapped_column(ForeignKey("minutes_decision.id", ondelete="RESTRICT"), index=True)
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposal.id", ondelete="RESTRICT"), index=True)
    objective_id: Mapped[int | None] = mapped_column(ForeignKey("objective.id", ondelete="RESTRICT"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    plan_objective: Mapped[PlanObjective | None] = relationship(
        back_populates="inputs", foreign_keys=[plan_objective_id],
        primaryjoin="PlanInput.plan_objective_id == PlanObjective.id")
    plan_action: Mapped[PlanAction | None] = relationship(
        back_populates="inputs", foreign_keys=[plan_action_id], primaryjoin="PlanInput.plan_action_id == PlanAction.id")
    decision: Mapped[Decision] = relationship()
    proposal: Mapped[Proposal | None] = relationship()
    objective: Mapped[Objective | None] = relationship()

    @property
    def target(self) -> PlanObjective | PlanAction:
        return self.plan_objective if self.plan_objective_id is not None else self.plan_action

    @property
    def subject(self):
        return self.proposal if self.proposal_id is not None else self.objective

    @property
    def subject_type(self) -> str:
        return "proposal" if self.proposal_id is not None else "objective"


# =========================================================================== history

class RevisionSet(db.Model):
    """An aggiornamento: after adoption the record changes only inside one of these."""

    __tablename__ = "plan_revision_set"
    __table_args__ = (
        UniqueConstraint("plan_id", "number"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("closed_at IS NULL OR closed_at >= opened_at", name="closed_after_opened"),
        CheckConstraint("length(reason) > 0", name="reason_not_empty"),
        # One open aggiornamento per plan at a time.
        Index("uq_plan_revision_set_open", "plan_id", unique=True,
              sqlite_where=text("closed_at IS NULL"), postgresql_where=text("closed_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    reason: Mapped[str] = mapped_column(String(1000))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    opened_by_name: Mapped[str] = mapped_column(String(120))
    closed_at: Mapped[datetime | None]
    closed_by_name: Mapped[str | None] = mapped_column(String(120))
    # The deliberation that approved the aggiornamento, when there is one.
    approval_reference: Mapped[str | None] = mapped_column(String(200))
    approval_date: Mapped[date | None]

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class PlanRevision(db.Model):
    """One field of one item changed (or an item created, deleted, linked): who, when, old → new.

    Rows written by one operation share a `batch`; `owner_type/owner_id` name the area,
    objective or action whose history page lists the change (a budget line's change is
    part of its action's history).
    """

    __tablename__ = "plan_revision"
    __table_args__ = (
        enum_check("kind", RevisionKind),
        CheckConstraint("(kind = 'aggiornamento') = (revision_set_id IS NOT NULL)", name="set_only_in_aggiornamento"),
        Index("ix_plan_revision_plan_changed", "plan_id", "changed_at"),
        Index("ix_plan_revision_owner", "plan_id", "owner_type", "owner_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"))
    kind: Mapped[str] = enum_column(RevisionKind)
    revision_set_id: Mapped[int | None] = mapped_column(ForeignKey("plan_revision_set.id", ondelete="CASCADE"),
                                                        index=True)
    batch: Mapped[str] = mapped_column(String(32), index=True)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(120))
    operation: Mapped[str] = mapped_column(String(20))
    item_type: Mapped[str] = mapped_column(String(20))
    item_id: Mapped[int]
    item_label: Mapped[str] = mapped_column(String(300))
    owner_type: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[int]
    field: Mapped[str | None] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)

    revision_set: Mapped[RevisionSet | None] = relationship(lazy="joined")

    @property
    def kind_label(self) -> str:
        return str(REVISION_KIND_LABELS[self.kind])


# =========================================================================== the freeze guard

FROZEN_TEXT = ("Il piano è adottato e il suo contenuto è congelato: per modificarlo l'Ufficio di Piano "
               "deve aprire un aggiornamento.")
CLOSED_TEXT = "Il piano è concluso: il suo contenuto non si può più modificare."
# Monitoring may change these columns of an adopted plan without an aggiornamento.
MONITORING_COLUMNS = {PlanAction: {"status"}}


class FrozenRecord(TransitionError):
    def __init__(self, closed: bool = False):
        message = CLOSED_TEXT if closed else FROZEN_TEXT
        super().__init__(gettext(message) if has_request_context() else message, 409)


# Collections of child rows: the children are guarded themselves, so appending one to a loaded
# collection (a progress update while monitoring) does not count as changing the parent.
CHILD_COLLECTIONS = {"objectives", "actions", "indicators", "budget_lines", "inputs", "progress_updates"}


def _changed_columns(obj) -> set[str]:
    state = inspect(obj)
    return {attr.key for attr in state.attrs if attr.history.has_changes()} - CHILD_COLLECTIONS


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_frozen_record(session: Session, flush_context, instances) -> None:
    """Any insert, change or delete of record rows of a frozen plan is refused before SQL is sent."""
    from consulta.plan.models import Plan

    guarded = (PlanArea, PlanObjective, PlanAction, Indicator, BudgetLine, PlanInput)
    with session.no_autoflush:
        for obj in (*session.new, *session.dirty, *session.deleted):
            if not isinstance(obj, guarded) or obj.plan_id is None:
                continue
            if obj in session.dirty and obj not in session.deleted:
                changed = _changed_columns(obj)
                if not changed:
                    continue
                allowed = MONITORING_COLUMNS.get(type(obj), set())
                plan = session.get(Plan, obj.plan_id)
                if plan is not None and changed <= allowed and plan.is_monitoring:
                    continue
            else:
                plan = session.get(Plan, obj.plan_id)
            if plan is not None and not plan.record_editable:
                raise FrozenRecord(closed=plan.status == "closed")


def open_revision_set_of(plan_id: int) -> RevisionSet | None:
    return db.session.execute(
        select(RevisionSet).where(RevisionSet.plan_id == plan_id, RevisionSet.closed_at.is_(None))
    ).scalar_one_or_none()
