"""Closed months: periods in which nothing more may be recorded."""
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from hostadmin.clock import utcnow
from hostadmin.extensions import db
from hostadmin.types import UTCDateTime


class ClosedPeriod(db.Model):
    """One closing of a month (YYYY-MM in the host's time zone); reopening keeps the row."""

    __tablename__ = "closed_periods"
    __table_args__ = (
        # At most one closing in force per month; reopened ones stay as history.
        Index("uq_closed_periods_in_force", "host_id", "month", unique=True,
              postgresql_where=text("reopened_at IS NULL"), sqlite_where=text("reopened_at IS NULL")),
        CheckConstraint("month LIKE '____-__'", name="month_format"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id"), index=True)
    month: Mapped[str] = mapped_column(String(7))
    reason: Mapped[str | None] = mapped_column(Text)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reopened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopen_reason: Mapped[str | None] = mapped_column(Text)
