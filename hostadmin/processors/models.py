"""Processor connections per host, the events they sent, and what each charge or transfer became."""
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hostadmin.clock import utcnow
from hostadmin.extensions import db
from hostadmin.types import UTCDateTime

PROCESSORS = ("stripe", "wise", "paypal")


class ProcessorConnection(db.Model):
    """One processor connected to one host. Secrets are Fernet-encrypted (banking.crypto), never shown."""

    __tablename__ = "processor_connections"
    __table_args__ = (UniqueConstraint("host_id", "processor"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id"), index=True)
    processor: Mapped[str] = mapped_column(String(10))
    # Stripe: the endpoint's signing secret; Wise: the public key (PEM); PayPal: the webhook id.
    verification_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    api_key_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    sandbox: Mapped[bool] = mapped_column(default=False)
    # Which processor timestamp becomes cleared_at (processors.cleared_fields.CHOICES).
    cleared_field: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EventStatus:
    """What became of a verified processor event (processor_events.status)."""

    RECEIVED = "RECEIVED"  # stored, its job not run yet
    APPLIED = "APPLIED"    # its ledger changes are written
    WAITING = "WAITING"    # its parent (the charge, the expense) is not known yet
    IGNORED = "IGNORED"    # recorded only: a type that changes nothing
    FAILED = "FAILED"      # refused (absurd date, closed month, …): the error says why


class ProcessorEvent(db.Model):
    """One verified webhook, stored once per processor event id (a redelivery is acknowledged, not stored)."""

    __tablename__ = "processor_events"
    __table_args__ = (UniqueConstraint("host_id", "processor", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id"), index=True)
    processor: Mapped[str] = mapped_column(String(10))
    event_id: Mapped[str] = mapped_column(String(255))
    event_type: Mapped[str] = mapped_column(String(100))
    body: Mapped[dict] = mapped_column(JSON)
    body_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10), index=True, default=EventStatus.RECEIVED)
    # The charge / transfer / payout the event is about, so a waiting event finds its parent.
    parent_ref: Mapped[str | None] = mapped_column(String(255), index=True)
    error: Mapped[str | None] = mapped_column(Text)
    job_id: Mapped[str | None] = mapped_column(String(100))
    redeliveries: Mapped[int] = mapped_column(default=0)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ProcessorPayment(db.Model):
    """A processor charge, capture, transfer or payout and the ledger groups it became, with raw timestamps."""

    __tablename__ = "processor_payments"
    __table_args__ = (UniqueConstraint("host_id", "processor", "ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id"), index=True)
    processor: Mapped[str] = mapped_column(String(10))
    ref: Mapped[str] = mapped_column(String(255))  # ch_…, a Wise transfer id, a PayPal capture id
    kind: Mapped[str] = mapped_column(String(20))  # CONTRIBUTION, EXPENSE, TRIAGE, PAYOUT
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    expense_id: Mapped[int | None] = mapped_column(ForeignKey("expenses.id"), index=True)
    import_row_id: Mapped[int | None] = mapped_column(ForeignKey("import_rows.id"))
    group_id: Mapped[str | None] = mapped_column(String(36))
    fee: Mapped[int | None] = mapped_column(BigInteger)  # None: not known yet
    fee_group_id: Mapped[str | None] = mapped_column(String(36))
    refunded: Mapped[int] = mapped_column(BigInteger, default=0)
    # The processor's own timestamps as sent ({"created": 1764…, "available_on": …}) and the rule used.
    raw_timestamps: Mapped[dict] = mapped_column(JSON, default=dict)
    cleared_field: Mapped[str | None] = mapped_column(String(30))
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
