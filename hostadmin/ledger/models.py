"""Hosts, accounts, orders, expenses and the immutable ledger."""
import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON, BigInteger, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hostadmin.clock import utcnow
from hostadmin.extensions import db
from hostadmin.types import UTCDateTime


class AccountKind(str, enum.Enum):
    HOST = "HOST"
    COLLECTIVE = "COLLECTIVE"
    CONTRIBUTOR = "CONTRIBUTOR"
    PAYEE = "PAYEE"
    PROCESSOR = "PROCESSOR"  # a payment processor that keeps a fee


class OrderKind(str, enum.Enum):
    CONTRIBUTION = "CONTRIBUTION"
    ADDED_FUNDS = "ADDED_FUNDS"


class OrderStatus(str, enum.Enum):
    PENDING = "PENDING"      # expected, money not yet received
    PAID = "PAID"
    CANCELLED = "CANCELLED"
    REFUNDED = "REFUNDED"    # reversed in the ledger
    REPLACED = "REPLACED"    # reversed and superseded by a corrected order


class ExpenseStatus(str, enum.Enum):
    PENDING = "PENDING"      # recorded, awaiting approval
    APPROVED = "APPROVED"    # may be paid (and linked to a bank line in triage)
    PAID = "PAID"
    REJECTED = "REJECTED"


class EntryType(str, enum.Enum):
    CREDIT = "CREDIT"
    DEBIT = "DEBIT"


class LedgerKind(str, enum.Enum):
    CONTRIBUTION = "CONTRIBUTION"
    ADDED_FUNDS = "ADDED_FUNDS"
    HOST_FEE = "HOST_FEE"
    PROCESSOR_FEE = "PROCESSOR_FEE"
    EXPENSE = "EXPENSE"
    DISPUTE = "DISPUTE"  # money a processor holds while a cardholder disputes a charge


class Correction(str, enum.Enum):
    """Why a reversal group was written."""

    EDIT = "EDIT"        # added funds corrected: reversed and recreated
    REVERT = "REVERT"    # added funds taken back


class Host(db.Model):
    __tablename__ = "hosts"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    # Host fee taken on contributions, in basis points (1000 = 10%).
    host_fee_bps: Mapped[int] = mapped_column(default=0)
    # IANA zone name: months, date filters and closed periods are in this zone.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    accounts = relationship("Account", back_populates="host", foreign_keys="Account.host_id")

    def __repr__(self):
        return f"<Host {self.slug}>"


class Account(db.Model):
    """A collective, a contributor, a payee, or the host's own account."""

    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("host_id", "slug"),
        # A collective's name is unique on its host in any case ("Ada" and "ADA" are one name). Other kinds
        # may share names: records.party already finds a contributor or payee by name in any case.
        Index("uq_accounts_collective_name", "host_id", text("lower(name)"), unique=True,
              postgresql_where=text("kind = 'COLLECTIVE'"), sqlite_where=text("kind = 'COLLECTIVE'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    slug: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # An archived collective keeps its history and page but takes no new money (funds.collectives).
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped by every ORM update, like orders.version: a rename based on a stale page is refused.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    host = relationship("Host", back_populates="accounts", foreign_keys=[host_id])

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self):
        return f"<Account {self.kind} {self.slug}>"


class Order(db.Model):
    """A contribution to a collective: expected (PENDING) or received (PAID)."""

    __tablename__ = "orders"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), index=True)
    from_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    to_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)  # minor units
    currency: Mapped[str] = mapped_column(String(3))
    description: Mapped[str] = mapped_column(String(500), default="")
    host_fee_bps: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Links such as {"replaces_order_id": 12} or {"replaced_by_order_id": 13}.
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    # Bumped by every ORM update (UPDATE ... WHERE version = seen): pages send the version they
    # showed, and a save based on an older one is refused (funds.versions), never applied silently.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    from_account = relationship("Account", foreign_keys=[from_account_id])
    to_account = relationship("Account", foreign_keys=[to_account_id])

    __mapper_args__ = {"version_id_col": version}


class Expense(db.Model):
    """Money a collective pays out: recorded (PENDING), approved, then paid; or rejected."""

    __tablename__ = "expenses"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),
                      UniqueConstraint("host_id", "wise_transfer_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id"), index=True)
    collective_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    payee_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    description: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(20), index=True, default=ExpenseStatus.APPROVED.value)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    incurred_on: Mapped[date | None] = mapped_column()
    reject_reason: Mapped[str | None] = mapped_column(Text)
    # The Wise transfer that pays it (its webhooks name only the transfer), entered by the admin who paid it.
    wise_transfer_id: Mapped[str | None] = mapped_column(String(30))
    # Bumped by every ORM update, like orders.version: approve/pay/reject based on a stale page is refused.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    collective = relationship("Account", foreign_keys=[collective_id])
    payee = relationship("Account", foreign_keys=[payee_id])

    __mapper_args__ = {"version_id_col": version}


class LedgerTransaction(db.Model):
    """One immutable ledger row. Rows sharing a group_id sum to zero.

    Written only by hostadmin.ledger.service.record_group; never updated or
    deleted (a flush guard refuses it everywhere, a trigger on PostgreSQL).
    """

    __tablename__ = "ledger_transactions"
    __table_args__ = (
        Index("ix_ledger_transactions_account_effective", "account_id", "cleared_at"),
        # Ledger lists (migration 0005_h12): keyset pages by effective date (cleared_at, else
        # created_at) per host and per account, recorded-date ranges, trigram text search on PostgreSQL.
        Index("ix_ledger_transactions_host_effective", "host_id", text("coalesce(cleared_at, created_at)"), "id"),
        Index("ix_ledger_transactions_account_effective_id", "account_id",
              text("coalesce(cleared_at, created_at)"), "id"),
        Index("ix_ledger_transactions_host_created", "host_id", "created_at", "id"),
        Index("ix_ledger_transactions_description_trgm", "description", postgresql_using="gin",
              postgresql_ops={"description": "gin_trgm_ops"}),
        Index("ix_ledger_transactions_reason_trgm", "reason", postgresql_using="gin",
              postgresql_ops={"reason": "gin_trgm_ops"}),
        Index("ix_ledger_transactions_host_cleared", "host_id", "cleared_at"),  # reports: a host's month
        CheckConstraint("type IN ('CREDIT', 'DEBIT')", name="type_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id"), index=True)
    group_id: Mapped[str] = mapped_column(String(36), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    type: Mapped[str] = mapped_column(String(6))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    counterparty_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    amount: Mapped[int] = mapped_column(BigInteger)  # signed minor units, CREDIT > 0
    currency: Mapped[str] = mapped_column(String(3))
    amount_in_host_currency: Mapped[int] = mapped_column(BigInteger)
    host_currency: Mapped[str] = mapped_column(String(3))
    description: Mapped[str] = mapped_column(String(500), default="")
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    expense_id: Mapped[int | None] = mapped_column(ForeignKey("expenses.id"), index=True)
    is_refund: Mapped[bool] = mapped_column(default=False)
    refund_of_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_transactions.id"), unique=True)
    reason: Mapped[str | None] = mapped_column(Text)
    correction: Mapped[str | None] = mapped_column(String(10))  # Correction, on reversal rows
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    account = relationship("Account", foreign_keys=[account_id])
    counterparty = relationship("Account", foreign_keys=[counterparty_id])

    @property
    def effective_at(self) -> datetime:
        """When the money moved: cleared_at, else created_at."""
        return self.cleared_at or self.created_at
