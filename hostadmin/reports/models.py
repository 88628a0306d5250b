"""Report and export requests: one row per file a job builds (or a closed month stored)."""
import enum
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hostadmin.clock import utcnow
from hostadmin.extensions import db
from hostadmin.types import UTCDateTime


class ExportKind(str, enum.Enum):
    MONTHLY = "MONTHLY"   # the monthly report (params: month)
    LEDGER = "LEDGER"     # ledger rows for a date range (params: from, to, by)


class ExportStatus(str, enum.Enum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"
    EXPIRED = "EXPIRED"   # the file was removed after REPORT_FILE_TTL_DAYS


class ReportExport(db.Model):
    """A requested report or export: the job updates status, progress and the file; stored months never change."""

    __tablename__ = "report_exports"
    __table_args__ = (Index("ix_report_exports_host_created", "host_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(20))
    format: Mapped[str] = mapped_column(String(8), default="csv")
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default=ExportStatus.QUEUED.value)
    progress: Mapped[int] = mapped_column(default=0)  # percent
    row_count: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)
    file_name: Mapped[str | None] = mapped_column(String(200))  # inside REPORTS_DIR
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    job_id: Mapped[str | None] = mapped_column(String(64))
    # A closed month's stored report: the closing it belongs to and its version for that month.
    closed_period_id: Mapped[int | None] = mapped_column(ForeignKey("closed_periods.id"), unique=True)
    version: Mapped[int | None]
    data: Mapped[dict | None] = mapped_column(JSON)  # the monthly report's figures and notes
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: kept (stored months)

    @property
    def finished(self):
        """True when polling can stop."""
        return self.status in (ExportStatus.DONE.value, ExportStatus.FAILED.value, ExportStatus.EXPIRED.value)
