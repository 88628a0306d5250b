"""`processors backfill-cleared-at`: ledger groups of processor payments recorded without a cleared_at.

Nothing already set is recomputed. A missing cleared_at is taken from the payment's stored raw processor
timestamps by the host's current choice (a reversal takes its original's, so it nets out in the same
month); a date in a closed month is left alone and reported. The ledger rows change through the only
UPDATE the immutability guard and trigger allow (ledger.backfill's gate), in one transaction.
"""
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.orm import aliased

from hostadmin.clock import utcnow
from hostadmin.extensions import db
from hostadmin.funds import cleared
from hostadmin.ledger.guards import BACKFILL_OPTION
from hostadmin.ledger.models import LedgerTransaction
from hostadmin.processors import timestamps
from hostadmin.processors.models import ProcessorConnection, ProcessorPayment

Row = LedgerTransaction
# processor -> host choice -> raw timestamp fields tried in order (the first present wins)
FIELDS = {"stripe": {"charge_created": ("created",), "available_on": ("available_on", "created")},
          "wise": {"occurred_at": ("occurred_at",)},
          "paypal": {"create_time": ("create_time", "time_processed")}}
ISO = {"occurred_at", "create_time", "time_processed"}


@dataclass
class Result:
    dry_run: bool
    groups: Counter = field(default_factory=Counter)  # (processor, kind) -> groups
    rows: Counter = field(default_factory=Counter)
    payments: int = 0
    skipped: list = field(default_factory=list)

    def lines(self):
        """The command's report: one line per processor and event kind, then what was left alone."""
        head = "Dry run, nothing written: would back-fill" if self.dry_run else "Back-filled"
        total = sum(self.groups.values())
        lines = [f"{head} cleared_at on {total} group{'s' * (total != 1)} of processor payments"]
        for (processor, kind), count in sorted(self.groups.items()):
            lines.append(f"  {processor} {kind}: {count} group{'s' * (count != 1)} "
                         f"({self.rows[(processor, kind)]} rows)")
        lines.append(f"  payments given their cleared_at: {self.payments}")
        lines += [f"  skipped group {group}: {why}" for group, why in self.skipped]
        return lines


def moment_of(payment, choice, now):
    """The cleared_at the host's choice gives this payment from its raw timestamps, or None."""
    for name in FIELDS[payment.processor].get(choice, ()):
        raw = (payment.raw_timestamps or {}).get(name)
        if raw is None:
            continue
        try:
            return (timestamps.from_iso(raw, now, name) if name in ISO
                    else timestamps.from_epoch(raw, now + timestamps.AHEAD * 7, name)), name
        except timestamps.AbsurdTimestamp:
            return None, name
    return None, None


def backfill(host, dry_run=False):
    """Fill missing cleared_at of the host's processor payments and their ledger groups (one transaction)."""
    result, now = Result(dry_run), utcnow()
    choices = dict(db.session.execute(select(ProcessorConnection.processor, ProcessorConnection.cleared_field)
                                      .where(ProcessorConnection.host_id == host.id)).all())
    closed = cleared.closed_months(host)
    try:
        if not dry_run and db.session.get_bind().dialect.name == "postgresql":
            db.session.execute(text("SET LOCAL hostadmin.backfill = 'on'"))
        missing = set(db.session.scalars(select(Row.group_id).where(Row.host_id == host.id,
                                                                    Row.cleared_at.is_(None)).distinct()))
        updates = []
        payments = db.session.scalars(select(ProcessorPayment).where(ProcessorPayment.host_id == host.id)
                                      .order_by(ProcessorPayment.id)).all()
        for payment in payments:
            choice = choices.get(payment.processor) or next(iter(FIELDS[payment.processor]))
            value = payment.cleared_at
            if value is None:
                value, used = moment_of(payment, choice, now)
                if value is None:
                    result.skipped.append((payment.ref, "no usable raw timestamp"))
                    continue
                result.payments += 1
                if not dry_run:
                    db.session.execute(update(ProcessorPayment).where(ProcessorPayment.id == payment.id,
                                                                      ProcessorPayment.cleared_at.is_(None))
                                       .values(cleared_at=value, cleared_field=used))
            for group_id, kind in ((payment.group_id, payment.kind), (payment.fee_group_id, "FEE")):
                for target, label in [(group_id, kind)] + [(g, "REFUND") for g in _reversals_of(group_id)]:
                    if target not in missing:
                        continue
                    if cleared.month_of(host, value) in closed:
                        result.skipped.append((target, f"{cleared.month_name(cleared.month_of(host, value))} "
                                                       f"is closed"))
                        continue
                    missing.discard(target)
                    rows = db.session.scalar(select(func.count()).where(Row.group_id == target,
                                                                        Row.cleared_at.is_(None)))
                    result.groups[(payment.processor, label)] += 1
                    result.rows[(payment.processor, label)] += rows
                    updates.append({"group": target, "value": value})
        if updates and not dry_run:
            db.session.execute(update(Row.__table__).where(Row.group_id == bindparam("group"), Row.cleared_at.is_(None))
                               .values(cleared_at=bindparam("value")).execution_options(**{BACKFILL_OPTION: True}),
                               updates)
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return result


def _reversals_of(group_id):
    if not group_id:
        return []
    original = aliased(Row)
    return db.session.scalars(select(Row.group_id).join(original, original.id == Row.refund_of_id)
                              .where(original.group_id == group_id).distinct()).all()
