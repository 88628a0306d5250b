"""Transactions imports, their sync runs, and import rows (the triage staging area)."""
import enum
import datetime as dt
from datetime import datetime

from sqlalchemy import (
    JSON, BigInteger, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event, text,
)
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from hostadmin.clock import utcnow
from hostadmin.extensions import db
from hostadmin.types import UTCDateTime


class ImportSource(str, enum.Enum):
    PLAID = "PLAID"
    CSV = "CSV"


class RowStatus(str, enum.Enum):
    PENDING = "PENDING"    # waiting for triage (not "pending at the bank": see ImportRow.pending)
    LINKED = "LINKED"
    IGNORED = "IGNORED"
    ON_HOLD = "ON_HOLD"


class RunOutcome(str, enum.Enum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"          # will not be retried (item error, malformed response)
    RETRYING = "RETRYING"      # transient failure; a retry is scheduled
    ABANDONED = "ABANDONED"    # its worker died; a later run took over


class TransactionsImport(db.Model):
    __tablename__ = "transactions_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id"), index=True)
    source: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(200))
    plaid_item_id: Mapped[int | None] = mapped_column(ForeignKey("plaid_items.id"), unique=True)
    # CSV column mapping, remembered per import.
    csv_mapping: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    item = relationship("PlaidItem")


class ImportRun(db.Model):
    """One sync run (or CSV upload) of an import, with what it did."""

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("transactions_imports.id"), index=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id"), index=True)
    trigger: Mapped[str] = mapped_column(String(20), default="manual")  # webhook, manual, cli, schedule, connect, upload
    outcome: Mapped[str] = mapped_column(String(20), default=RunOutcome.RUNNING.value)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pages: Mapped[int] = mapped_column(default=0)
    restarts: Mapped[int] = mapped_column(default=0)  # mutation-during-pagination restarts
    added: Mapped[int] = mapped_column(default=0)
    modified: Mapped[int] = mapped_column(default=0)
    removed: Mapped[int] = mapped_column(default=0)
    duplicates: Mapped[int] = mapped_column(default=0)  # already imported (re-sync, CSV overlap)
    invalid: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0, server_default="0")  # statement lines that are no transaction
    invalid_details: Mapped[list | None] = mapped_column(JSON)
    error_code: Mapped[str | None] = mapped_column(String(100))
    error: Mapped[str | None] = mapped_column(Text)
    job_id: Mapped[str | None] = mapped_column(String(100))
    filename: Mapped[str | None] = mapped_column(String(300))  # CSV uploads
    uploaded_by: Mapped[str | None] = mapped_column(String(254))  # the uploader's email (statement uploads)


class ImportRow(db.Model):
    """One bank line. source_id is unique per import: the database refuses a duplicate.

    amount is in minor units, positive = money INTO the host's account (Plaid's
    sign is the opposite; the sync engine flips it once, at the boundary).
    """

    __tablename__ = "import_rows"
    __table_args__ = (
        UniqueConstraint("import_id", "source_id"),
        Index("ix_import_rows_host_status_date", "host_id", "status", "date", "id"),
        Index("ix_import_rows_import_date", "import_id", "date", "id"),
        Index("ix_import_rows_pending_source", "import_id", "pending_source_id"),
        # Triage (migration 0003t): keyset orders per import and status by date, and by amount
        # (status then filtered: every extra index slows bulk updates, which are never HOT);
        # trigram indexes so a text search stays fast on PostgreSQL (plain b-trees on SQLite).
        # A larger GIN pending list keeps a 10,000-row bulk update from merging it inline.
        Index("ix_import_rows_import_status_date", "import_id", "status", "date", "id"),
        Index("ix_import_rows_host_date", "host_id", "date", "id"),
        Index("ix_import_rows_host_amount", "host_id", "amount", "id"),
        Index("ix_import_rows_description_trgm", "description", postgresql_using="gin",
              postgresql_ops={"description": "gin_trgm_ops"},
              postgresql_with={"gin_pending_list_limit": 32768}),
        Index("ix_import_rows_merchant_trgm", "merchant_name", postgresql_using="gin",
              postgresql_ops={"merchant_name": "gin_trgm_ops"}, postgresql_with={"gin_pending_list_limit": 32768}),
        Index("ix_import_rows_note_trgm", "note", postgresql_using="gin",
              postgresql_ops={"note": "gin_trgm_ops"}, postgresql_with={"gin_pending_list_limit": 32768}),
        # Small partial indexes: "changed by the bank" and "removed" are rare, counted often.
        Index("ix_import_rows_review", "import_id", "host_id",
              postgresql_where=text("needs_review"), sqlite_where=text("needs_review")),
        Index("ix_import_rows_removed", "import_id", "host_id",
              postgresql_where=text("removed_at IS NOT NULL"), sqlite_where=text("removed_at IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("transactions_imports.id"))
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id"))
    bank_account_id: Mapped[int | None] = mapped_column(ForeignKey("bank_accounts.id"), index=True)
    source_id: Mapped[str] = mapped_column(String(128))
    date: Mapped[dt.date] = mapped_column(Date)
    authorized_date: Mapped[dt.date | None] = mapped_column(Date)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(10))
    description: Mapped[str] = mapped_column(String(500), default="")
    merchant_name: Mapped[str | None] = mapped_column(String(200))
    pending: Mapped[bool] = mapped_column(default=False)
    pending_source_id: Mapped[str | None] = mapped_column(String(128))
    # The bank's record exactly as received (JSON text), for audits and support.
    raw: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=RowStatus.PENDING.value)
    note: Mapped[str | None] = mapped_column(Text)
    collective_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    expense_id: Mapped[int | None] = mapped_column(ForeignKey("expenses.id"), index=True)
    ledger_group_id: Mapped[str | None] = mapped_column(String(36))
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The bank changed or removed a row someone had already triaged: review it.
    needs_review: Mapped[bool] = mapped_column(default=False)
    review_reason: Mapped[str | None] = mapped_column(String(200))
    previous_values: Mapped[list | None] = mapped_column(JSON)
    first_run_id: Mapped[int | None] = mapped_column(Integer)
    statement_line: Mapped[int | None] = mapped_column(Integer)  # the line (or entry) of the statement file
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Bumped by every triage change (the ORM event below, and each set-based UPDATE in imports.service and
    # imports.bulk): a note saved on a page that showed an older version is refused, never overwritten.
    # Not a version_id_col: the sync's own updates (bank changes) must not fail an admin's concurrent save.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    @property
    def is_triaged(self):
        return self.status != RowStatus.PENDING.value or bool(self.note)


@event.listens_for(ImportRow, "before_update")
def _bump_version(mapper, connection, row):
    """Every ORM change of a row moves its version on (an UPDATE with no real change does not)."""
    if object_session(row).is_modified(row, include_collections=False):
        row.version = ImportRow.version + 1  # in SQL: right even after a set-based UPDATE the session missed
