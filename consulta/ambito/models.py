"""The Ambito territoriale (one per installation) and its comuni."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consulta.core import layout
from consulta.extensions import db


class Ambito(db.Model):
    __tablename__ = "ambito"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    number: Mapped[str | None] = mapped_column(String(20))
    region: Mapped[str | None] = mapped_column(String(60))
    description: Mapped[str | None] = mapped_column(String(4000))
    lead_comune_id: Mapped[int | None] = mapped_column(
        ForeignKey("comune.id", ondelete="SET NULL")
    )

    lead_comune: Mapped[Comune | None] = relationship(foreign_keys=[lead_comune_id])

    @classmethod
    def current(cls) -> Ambito | None:
        """The Ambito of the installation (the first one): the one the page's own query read along (see
        consulta.core.layout), else read."""
        read_along, ambito = layout.kept_ambito()
        if read_along:
            return ambito
        return db.session.execute(select(cls).order_by(cls.id).limit(1)).scalar_one_or_none()

    @staticmethod
    def can_set_up(user) -> bool:
        """The Ufficio di Piano names the Ambito and its comuni."""
        from consulta.admin.permissions import can_administer

        return can_administer(user)


class Comune(db.Model):
    __tablename__ = "comune"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    istat_code: Mapped[str | None] = mapped_column(String(6), unique=True)

    @classmethod
    def all_sorted(cls) -> list[Comune]:
        return list(db.session.execute(select(cls).order_by(cls.name)).scalars())
