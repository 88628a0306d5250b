"""Plaid items (one bank login each), their bank accounts, and issued Link tokens."""
import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hostadmin.clock import utcnow
from hostadmin.extensions import db
from hostadmin.types import UTCDateTime


class ItemStatus(str, enum.Enum):
    HEALTHY = "HEALTHY"
    LOGIN_REQUIRED = "LOGIN_REQUIRED"
    PENDING_EXPIRATION = "PENDING_EXPIRATION"
    PENDING_DISCONNECT = "PENDING_DISCONNECT"
    REVOKED = "REVOKED"
    ERROR = "ERROR"
    DISCONNECTED = "DISCONNECTED"  # removed by the host; history kept, no more syncs


class PlaidItem(db.Model):
    __tablename__ = "plaid_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id"), index=True)
    plaid_item_id: Mapped[str] = mapped_column(String(100), unique=True)
    # Fernet token of the Plaid access token (ENCRYPTION_KEY); never sent to a browser or log.
    access_token_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    institution_id: Mapped[str | None] = mapped_column(String(64))
    institution_name: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(30), default=ItemStatus.HEALTHY.value)
    error_code: Mapped[str | None] = mapped_column(String(100))
    error_message: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    new_accounts_available: Mapped[bool] = mapped_column(default=False)
    # The committed /transactions/sync cursor; None until the first successful sync.
    cursor: Mapped[str | None] = mapped_column(Text)
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_sync_error: Mapped[str | None] = mapped_column(Text)
    # Per-item sync lock (banking.locks): the holder's token, host and pid; the expiry is SQLite's lease.
    sync_lock_token: Mapped[str | None] = mapped_column(String(64))
    sync_lock_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sync_lock_host: Mapped[str | None] = mapped_column(String(255))
    sync_lock_pid: Mapped[int | None] = mapped_column()
    # Set when a sync is requested while one runs: exactly one more run follows.
    sync_requested: Mapped[bool] = mapped_column(default=False)
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disconnected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A disconnected connection the host removed from the Connections list (its import and rows stay).
    removed_from_list_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    accounts = relationship("BankAccount", back_populates="item", order_by="BankAccount.id")

    @property
    def display_name(self):
        return self.institution_name or self.institution_id or "Bank"


class BankAccount(db.Model):
    __tablename__ = "bank_accounts"
    __table_args__ = (UniqueConstraint("item_id", "plaid_account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("plaid_items.id"), index=True)
    plaid_account_id: Mapped[str] = mapped_column(String(100))
    persistent_account_id: Mapped[str | None] = mapped_column(String(200), index=True)
    name: Mapped[str] = mapped_column(String(200))
    official_name: Mapped[str | None] = mapped_column(String(300))
    mask: Mapped[str | None] = mapped_column(String(10))
    type: Mapped[str] = mapped_column(String(30))
    subtype: Mapped[str | None] = mapped_column(String(50))
    currency: Mapped[str | None] = mapped_column(String(10))
    synced: Mapped[bool] = mapped_column(default=True)
    # The collective that deposits on this account usually belong to (triage default).
    default_collective_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When an admin decided whether this account is imported; None = new, not decided (not synced).
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when a disconnected bank is connected again: the new Item re-sends the history under new
    # transaction ids, and lines dated before this day were already imported through the old one.
    history_from: Mapped[date | None] = mapped_column(Date)

    item = relationship("PlaidItem", back_populates="accounts")

    @property
    def label(self):
        return f"{self.name} ••{self.mask}" if self.mask else self.name


class LinkTokenGrant(db.Model):
    """A Link token we issued, bound to the host and user who asked for it."""

    __tablename__ = "plaid_link_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    link_token: Mapped[str] = mapped_column(String(200), unique=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("plaid_items.id"))  # update mode
    purpose: Mapped[str] = mapped_column(String(20))  # CONNECT, RECONNECT, NEW_ACCOUNTS
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
