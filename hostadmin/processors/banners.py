"""A banner for the host's admins while an expense whose PayPal payout failed waits to be paid again."""
from dataclasses import dataclass

from flask import g, url_for
from sqlalchemy import select

from hostadmin.auth.models import Role
from hostadmin.extensions import db
from hostadmin.ledger.models import Expense, ExpenseStatus
from hostadmin.processors.models import EventStatus, ProcessorEvent
from hostadmin.processors.paypal import EXPENSE_ITEM, PAYOUT_FAILED

LOOK_BACK = 50


@dataclass(frozen=True)
class PayoutBanner:
    expense_id: int
    kind: str
    url: str


def failed_payouts(host):
    """Approved expenses whose latest PayPal payout event says it failed, one banner each (newest first)."""
    found = db.session.scalars(select(ProcessorEvent).where(
        ProcessorEvent.host_id == host.id, ProcessorEvent.processor == "paypal",
        ProcessorEvent.event_type.in_(sorted(PAYOUT_FAILED)), ProcessorEvent.status == EventStatus.APPLIED)
        .order_by(ProcessorEvent.id.desc()).limit(LOOK_BACK)).all()
    banners, seen = [], set()
    for event in found:
        item = (event.body.get("resource") or {}).get("payout_item") or {}
        match = EXPENSE_ITEM.fullmatch(str(item.get("sender_item_id") or ""))
        if match is None or int(match.group(1)) in seen:
            continue
        expense_id = int(match.group(1))
        seen.add(expense_id)
        expense = db.session.get(Expense, expense_id)
        if expense is not None and expense.host_id == host.id and expense.status == ExpenseStatus.APPROVED.value:
            banners.append(PayoutBanner(expense_id, event.event_type.rsplit(".", 1)[-1].lower(),
                                        url_for("expenses.show", expense_id=expense_id)))
    return banners


def install(app):
    """Register the context processor (payout_banners), for admins on host pages."""

    @app.context_processor
    def payout_banners():
        host, membership = getattr(g, "host", None), getattr(g, "membership", None)
        if host is None or membership is None or membership.role != Role.ADMIN.value:
            return {"payout_banners": ()}
        return {"payout_banners": _Lazy(host)}


class _Lazy:
    """Queries only when a template shows the banners."""

    def __init__(self, host):
        self._host, self._banners = host, None

    def __iter__(self):
        if self._banners is None:
            self._banners = failed_payouts(self._host)
        return iter(self._banners)
