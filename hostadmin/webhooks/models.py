"""Every webhook request received, verified or not."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hostadmin.clock import utcnow
from hostadmin.extensions import db
from hostadmin.types import UTCDateTime


class WebhookEvent(db.Model):
    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    verified: Mapped[bool] = mapped_column(default=False)
    rejection_reason: Mapped[str | None] = mapped_column(String(200))
    webhook_type: Mapped[str | None] = mapped_column(String(50))
    webhook_code: Mapped[str | None] = mapped_column(String(50))
    plaid_item_id: Mapped[str | None] = mapped_column(String(100), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("plaid_items.id"), index=True)
    host_id: Mapped[int | None] = mapped_column(ForeignKey("hosts.id"), index=True)
    body_sha256: Mapped[str | None] = mapped_column(String(64))
    # The parsed body, stored only once the signature and body hash checked out.
    body: Mapped[dict | None] = mapped_column(JSON)
    # One of Outcome's values.
    outcome: Mapped[str] = mapped_column(String(20), index=True)
    job_id: Mapped[str | None] = mapped_column(String(100))
    sync_run_id: Mapped[int | None] = mapped_column(ForeignKey("import_runs.id"))
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)


class Outcome:
    """What became of a webhook (webhook_events.outcome)."""

    RECEIVED = "RECEIVED"      # verified; its sync is not enqueued yet (Redis was down)
    DISPATCHED = "DISPATCHED"  # a sync job was enqueued or joined
    APPLIED = "APPLIED"        # the item's status or flags were updated
    IGNORED = "IGNORED"        # recorded only: unknown item, unhandled code, nothing to do
    REJECTED = "REJECTED"      # failed verification (or not JSON); the body is not kept
