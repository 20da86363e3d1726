"""Administrative units (tỉnh, huyện, xã) with validity dates and the 2025 merge links."""
from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import Column, Date, Enum, ForeignKey, String, Table, UniqueConstraint, or_, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db


class UnitLevel(enum.StrEnum):
    province = "province"
    district = "district"
    commune = "commune"


unit_merges = Table(
    "unit_merges",
    db.metadata,
    Column("unit_id", ForeignKey("admin_units.id", ondelete="CASCADE"), primary_key=True),
    Column("source_id", ForeignKey("admin_units.id", ondelete="CASCADE"), primary_key=True),
)


class AdminUnit(db.Model):
    """One administrative unit as it existed between valid_from and valid_to.

    GSO codes are reused across reorganisations (xã Vinh Quý 2025 keeps 01561), so the natural
    key is (code, valid_from), and an inspection binds to the version valid on its date.
    """

    __tablename__ = "admin_units"
    __table_args__ = (UniqueConstraint("code", "valid_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))  # "Xã", "Thị trấn", "Huyện", "Tỉnh", ...
    level: Mapped[UnitLevel] = mapped_column(Enum(UnitLevel, native_enum=False, length=20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("admin_units.id"))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)

    parent: Mapped[AdminUnit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[AdminUnit]] = relationship(back_populates="parent")
    merged_from: Mapped[list[AdminUnit]] = relationship(
        secondary=unit_merges,
        primaryjoin=id == unit_merges.c.unit_id,
        secondaryjoin=id == unit_merges.c.source_id,
        backref="merged_into",
    )

    @property
    def full_name(self) -> str:
        """Name with its kind, as written in documents: "xã Cô Ngân"."""
        return f"{self.kind} {self.name}"

    def is_valid_on(self, day: date) -> bool:
        """Whether this version of the unit existed on the given day."""
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    @classmethod
    def valid_on_query(cls, day: date):
        """A select of unit versions valid on a day."""
        return select(cls).where(cls.valid_from <= day,
                                 or_(cls.valid_to.is_(None), cls.valid_to >= day))

    def predecessors(self) -> list[AdminUnit]:
        """Every unit this one absorbed, transitively (for history across mergers)."""
        seen: dict[int, AdminUnit] = {}
        stack = list(self.merged_from)
        while stack:
            unit = stack.pop()
            if unit.id not in seen:
                seen[unit.id] = unit
                stack.extend(unit.merged_from)
        return list(seen.values())

    def __repr__(self) -> str:
        return f"<AdminUnit {self.code} {self.full_name} {self.valid_from}..{self.valid_to}>"
