"""Users, their host memberships and roles."""
import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hostadmin.clock import utcnow
from hostadmin.extensions import db
from hostadmin.types import UTCDateTime


class Role(str, enum.Enum):
    ADMIN = "ADMIN"
    ACCOUNTANT = "ACCOUNTANT"  # read-only


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lowercased
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(default=True)
    # Part of every session's user id: bumping it ends every session (logout, new password, deactivation).
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships = relationship("HostMember", back_populates="user", cascade="all, delete-orphan")

    @property
    def is_active(self):
        return self.active

    def get_id(self):
        """What Flask-Login keeps in the session: the id and the session version."""
        return f"{self.id}:{self.session_version}"


class HostMember(db.Model):
    __tablename__ = "host_members"
    __table_args__ = (UniqueConstraint("user_id", "host_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))

    user = relationship("User", back_populates="memberships")
    host = relationship("Host")
