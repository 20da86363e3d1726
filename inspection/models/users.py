"""Accounts, their roles, and the certificates registered to them."""
from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, Enum, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import created_at_column
from .units import AdminUnit


class Role(enum.StrEnum):
    admin = "admin"
    leader = "leader"
    inspector = "inspector"
    unitrep = "unitrep"


class InvalidAccountChange(ValueError):
    """A move the account (or a registered certificate) does not allow, e.g. deactivating an
    inactive account."""


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
    # Every session carries the generation it began in; raising it ends them all (password
    # change or reset, deactivation and reactivation, "end all sessions", an edit).
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = created_at_column()

    unit: Mapped[AdminUnit | None] = relationship()
    certificates: Mapped[list[UserCertificate]] = relationship(
        back_populates="user", foreign_keys="UserCertificate.user_id",
        order_by="UserCertificate.id")

    @property
    def is_active(self) -> bool:
        """Whether the account may sign in (Flask-Login asks this)."""
        return self.active

    def end_sessions(self) -> None:
        """End every session of the account: the generation they carry is no longer current."""
        self.session_generation = (self.session_generation or 0) + 1

    def deactivate(self) -> None:
        """Refuse every sign-in and end every session; refuses an account already inactive."""
        if not self.active:
            raise InvalidAccountChange("already inactive")
        self.active = False
        self.end_sessions()

    def activate(self) -> None:
        """Allow sign-ins again (with a new sign-in: old sessions stay ended)."""
        if self.active:
            raise InvalidAccountChange("already active")
        self.active = True
        self.end_sessions()

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class UserCertificate(db.Model):
    """A signing certificate registered to an account: an uploaded signature fills the account's
    slot only with one of these. Withdrawn ones stop counting for new signatures but still name
    the signer of earlier ones."""

    __tablename__ = "user_certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)  # of the DER encoding
    subject: Mapped[str] = mapped_column(String(500))
    issuer: Mapped[str] = mapped_column(String(500))
    serial: Mapped[str] = mapped_column(String(80))  # hexadecimal
    not_before: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    not_after: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    der: Mapped[bytes] = mapped_column(LargeBinary)
    added_at: Mapped[datetime] = created_at_column()
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(back_populates="certificates", foreign_keys=[user_id])

    @property
    def in_use(self) -> bool:
        """Not withdrawn: signatures made with it may fill the account's slot."""
        return self.withdrawn_at is None

    def withdraw(self, by: User, at: datetime) -> None:
        """Stop accepting new signatures made with this certificate; refuses doing it twice."""
        if self.withdrawn_at is not None:
            raise InvalidAccountChange("already withdrawn")
        self.withdrawn_at, self.withdrawn_by_id = at, by.id
