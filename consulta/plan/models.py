"""Plan editions (Piano Sociale di Zona); the plan record itself is in plan/record.py."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, String, exists, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consulta.core.db import enum_check, enum_column, utcnow
from consulta.core.permissions import is_admin, is_facilitator
from consulta.core.states import Transition, TransitionTable
from consulta.core.text import render_markdown
from consulta.extensions import db

if TYPE_CHECKING:
    from consulta.plan.record import RevisionSet
    from consulta.tavoli.models import Tavolo


class PlanStatus(StrEnum):
    preparing = "preparing"
    consulting = "consulting"
    adopted = "adopted"
    monitoring = "monitoring"
    closed = "closed"


PLAN_STATUS_LABELS = {
    "preparing": _l("In preparazione"),
    "consulting": _l("In concertazione"),
    "adopted": _l("Adottato"),
    "monitoring": _l("In monitoraggio"),
    "closed": _l("Concluso"),
}


PLAN_MOVE_LABELS = {
    "consulting": _l("Avvia la concertazione"),
    "preparing": _l("Riporta in preparazione"),
    "adopted": _l("Adotta il piano"),
    "monitoring": _l("Avvia il monitoraggio"),
    "closed": _l("Concludi il piano"),
}


def _admin(plan, user) -> bool:
    return is_admin(user)


def _has_adoption_reference(plan, ctx) -> str | None:
    if not (plan.adoption_reference and plan.adoption_date):
        return "Per adottare il piano servono il riferimento e la data della deliberazione."
    return None


def _no_open_aggiornamento(plan, ctx) -> str | None:
    if plan.open_revision_set is not None:
        return "C'è un aggiornamento del piano ancora aperto: chiudilo prima di concludere il piano."
    return None


PLAN_TRANSITIONS = TransitionTable("status", [
    Transition(PlanStatus.preparing, PlanStatus.consulting, allowed=_admin, action="plan.open_consultation"),
    Transition(PlanStatus.consulting, PlanStatus.preparing, allowed=_admin, action="plan.back_to_preparing"),
    Transition(PlanStatus.consulting, PlanStatus.adopted, allowed=_admin, action="plan.adopt",
               requires=_has_adoption_reference),
    Transition(PlanStatus.adopted, PlanStatus.monitoring, allowed=_admin, action="plan.start_monitoring"),
    Transition(PlanStatus.monitoring, PlanStatus.closed, allowed=_admin, action="plan.close",
               requires=_no_open_aggiornamento),
])


class Plan(db.Model):
    __tablename__ = "plan"
    __table_args__ = (
        enum_check("status", PlanStatus),
        CheckConstraint("period_end >= period_start", name="period_order"),
        CheckConstraint(
            "status IN ('preparing', 'consulting') OR (adoption_reference IS NOT NULL AND adoption_date IS NOT NULL)",
            name="adopted_has_reference",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    period_start: Mapped[int]
    period_end: Mapped[int]
    description: Mapped[str | None] = mapped_column(String(4000))
    status: Mapped[str] = enum_column(PlanStatus, default=PlanStatus.preparing)
    adoption_reference: Mapped[str | None] = mapped_column(String(200))
    adoption_date: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    tavoli: Mapped[list[Tavolo]] = relationship(back_populates="plan", order_by="Tavolo.position")
    # Loaded only when asked for (few rows per plan): the open one decides whether the record is editable.
    revision_sets: Mapped[list[RevisionSet]] = relationship(order_by="RevisionSet.number")

    @property
    def period_label(self) -> str:
        return f"{self.period_start}–{self.period_end}"

    @property
    def status_label(self) -> str:
        return str(PLAN_STATUS_LABELS[self.status])

    @property
    def description_html(self) -> str:
        return render_markdown(self.description)

    @staticmethod
    def can_create(user) -> bool:
        return is_admin(user)

    def can_view(self, user) -> bool:
        # Every edition is public; only draft tavoli inside it are not.
        return True

    def can_edit(self, user) -> bool:
        return is_admin(user)

    def can_add_tavolo(self, user) -> bool:
        return is_admin(user) and self.status in (PlanStatus.preparing, PlanStatus.consulting)

    def status_targets(self, user) -> list[str]:
        """Statuses `user` may move this plan to now (buttons)."""
        return PLAN_TRANSITIONS.targets(self, user)

    @staticmethod
    def move_label(target: str) -> str:
        return str(PLAN_MOVE_LABELS.get(target, target))

    # --- the plan record ----------------------------------------------------
    @property
    def open_revision_set(self) -> RevisionSet | None:
        return next((s for s in self.revision_sets if s.closed_at is None), None)

    @property
    def is_adopted(self) -> bool:
        """Adopted (and later monitored or closed): the record as adopted is an act."""
        return self.status in (PlanStatus.adopted, PlanStatus.monitoring, PlanStatus.closed)

    @property
    def is_monitoring(self) -> bool:
        return self.status == PlanStatus.monitoring

    @property
    def record_editable(self) -> bool:
        """Before adoption the record is being drafted; afterwards only inside an aggiornamento."""
        if self.status in (PlanStatus.preparing, PlanStatus.consulting):
            return True
        return self.status != PlanStatus.closed and self.open_revision_set is not None

    def can_manage_record(self, user) -> bool:
        """Admins, and the facilitators of a tavolo of this plan (for the areas of their tavoli)."""
        if is_admin(user):
            return True
        if not is_facilitator(user):
            return False
        cache = self.__dict__.setdefault("_facilitator_cache", {})
        if user.id not in cache:
            from consulta.tavoli.models import Tavolo, tavolo_facilitator

            cache[user.id] = db.session.execute(select(exists().where(
                tavolo_facilitator.c.user_id == user.id, tavolo_facilitator.c.tavolo_id == Tavolo.id,
                Tavolo.plan_id == self.id))).scalar()
        return cache[user.id]

    @staticmethod
    def preload_record_managers(plans, user) -> None:
        """Answer can_manage_record for many plans with one query (a page listing tavoli of several plans)."""
        if is_admin(user) or not is_facilitator(user):
            return  # answered without a query anyway
        plans = [plan for plan in plans if user.id not in plan.__dict__.get("_facilitator_cache", {})]
        if not plans:
            return
        from consulta.tavoli.models import Tavolo, tavolo_facilitator

        managed = set(db.session.execute(
            select(Tavolo.plan_id).distinct().join(tavolo_facilitator, tavolo_facilitator.c.tavolo_id == Tavolo.id)
            .where(tavolo_facilitator.c.user_id == user.id, Tavolo.plan_id.in_([plan.id for plan in plans]))
        ).scalars())
        for plan in plans:
            plan.__dict__.setdefault("_facilitator_cache", {})[user.id] = plan.id in managed

    def can_edit_areas(self, user) -> bool:
        return is_admin(user) and self.record_editable

    def can_adopt(self, user) -> bool:
        return PLAN_TRANSITIONS.can(self, PlanStatus.adopted, user)

    def can_open_aggiornamento(self, user) -> bool:
        return (is_admin(user) and self.status in (PlanStatus.adopted, PlanStatus.monitoring)
                and self.open_revision_set is None)

    def can_close_aggiornamento(self, user) -> bool:
        return is_admin(user) and self.open_revision_set is not None

    @classmethod
    def current(cls) -> Plan | None:
        """The edition the home page shows: the newest one not in preparation, else the newest."""
        stmt = select(cls).order_by((cls.status == PlanStatus.preparing).asc(), cls.period_start.desc(), cls.id.desc())
        return db.session.execute(stmt.limit(1)).scalar_one_or_none()


# The record's models live beside the edition; importing them here completes the metadata.
from consulta.plan import record as _record  # noqa: E402,F401
