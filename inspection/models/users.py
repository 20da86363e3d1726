"""Accounts and their roles."""
from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import created_at_column
from .units import AdminUnit


class Role(enum.StrEnum):
    admin = "admin"
    leader = "leader"
    inspector = "inspector"
    unitrep = "unitrep"


class User(UserMixin, db.Model):
    """A person who signs in: secretariat admin, team leader, inspector or unit representative."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    position: Mapped[str] = mapped_column(String(200), default="")  # chức vụ, printed in minutes
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    password_hash: Mapped[str] = mapped_column(String(255))
    # The unit a representative speaks for (unitrep only).
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("admin_units.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = created_at_column()

    unit: Mapped[AdminUnit | None] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login asks this
        return self.active

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"
