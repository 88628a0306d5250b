"""The few domain events every processor's webhook becomes; service.apply writes them to the ledger.

Amounts are integer minor units of `currency` (CLDR precision), always positive; times are aware UTC.
`ref` is the processor's id of the money movement (a Stripe charge, a Wise transfer, a PayPal capture).
"""
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class ContributionPaid:
    """Money came in for a collective (by its slug; None or unknown: a row for triage)."""

    ref: str
    collective_slug: str | None
    amount: int
    currency: str
    cleared_at: datetime
    cleared_field: str
    raw_timestamps: dict
    description: str = ""
    contributor_name: str | None = None
    fee: int | None = None  # None: not known yet (FeeCharged adds it later)


@dataclass(frozen=True)
class FeeCharged:
    """The processor kept `fee` of the movement `ref` (learnt after the money itself, or with it)."""

    ref: str
    fee: int
    currency: str
    raw_timestamps: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Refunded:
    """Money of `ref` went back: `refunded_total` is how much of it is refunded by now (Stripe: cumulative),
    or, without it, one refund (`refund_id`) of `amount` (PayPal)."""

    ref: str
    refunded_total: int | None
    currency: str
    raw_timestamps: dict = field(default_factory=dict)
    refund_id: str | None = None
    amount: int | None = None


@dataclass(frozen=True)
class ExpensePaid:
    """An expense (by its id, or by the processor's transfer id) was paid out."""

    ref: str
    expense_id: int | None
    amount: int | None
    currency: str | None
    cleared_at: datetime
    cleared_field: str
    raw_timestamps: dict
    state: str = "paid"  # paid, failed (back to approved), or any other state, recorded only


@dataclass(frozen=True)
class PayoutPaid:
    """The processor moved its balance to the host's bank: a transfer, not income."""

    ref: str
    amount: int
    currency: str
    arrival_date: datetime
    raw_timestamps: dict


@dataclass(frozen=True)
class DisputeOpened:
    """A cardholder disputes `amount` of the charge `ref`: the processor holds it until the dispute closes."""

    ref: str
    dispute_id: str
    amount: int
    currency: str
    opened_at: datetime
    raw_timestamps: dict


@dataclass(frozen=True)
class DisputeClosed:
    """The dispute `dispute_id` of the charge `ref` ended: "won" releases the held amount, "lost" refunds it."""

    ref: str
    dispute_id: str
    outcome: str
    closed_at: datetime
    raw_timestamps: dict


@dataclass(frozen=True)
class CardSpent:
    """A purchase with a virtual card of a collective (by slug; None or unknown: a row for triage)."""

    ref: str
    collective_slug: str | None
    amount: int
    currency: str
    merchant: str
    cleared_at: datetime
    cleared_field: str
    raw_timestamps: dict
    description: str = ""


@dataclass(frozen=True)
class Recorded:
    """An event that changes nothing in the ledger; kept with why."""

    ref: str | None
    note: str
