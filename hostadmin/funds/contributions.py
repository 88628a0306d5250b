"""Contributions (orders): expect one (PENDING), mark it received with the date the money cleared, list them.

Each action commits or rolls back; refusals raise RecordError and write nothing.
"""
from sqlalchemy import select

from hostadmin.audit import service as audit
from hostadmin.extensions import db
from hostadmin.funds import records
from hostadmin.funds.records import RecordError
from hostadmin.imports.models import ImportRow
from hostadmin.ledger import accounts as ledger_accounts
from hostadmin.ledger import service as ledger
from hostadmin.ledger.accounts import ValidationError
from hostadmin.ledger.models import AccountKind, LedgerTransaction, Order, OrderKind, OrderStatus
from hostadmin.text import clean_line

STATUSES = tuple(status.value for status in OrderStatus)
STATUS_WORDS = {"PENDING": "expected", "PAID": "received", "CANCELLED": "cancelled", "REFUNDED": "reverted",
                "REPLACED": "replaced"}
ANONYMOUS = "Anonymous"


def create_expected(host, user, *, collective, amount, contributor_name=None, description=""):
    """Record an expected contribution (PENDING: a bank line can be linked to it, or it is marked received).

    The contributor is found by name (any case) or created; without a name it is "Anonymous".
    """
    try:
        collective = records.collective_of(host, collective)
        contributor = records.party(host, AccountKind.CONTRIBUTOR,
                                    clean_line(contributor_name or "", 200).strip() or ANONYMOUS,
                                    field_name="contributor")
        order = ledger_accounts.create_order(
            host, contributor=contributor, collective=collective, amount=amount, kind=OrderKind.CONTRIBUTION,
            description=clean_line(description or "", 500).strip(), created_by=user)
        audit.record(host, user, "contribution.create", order, after=snapshot(order))
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        _refuse(error)
    return order


def mark_received(host, user, order_id, *, cleared_at):
    """Mark an expected contribution received: PAID, its ledger group written with `cleared_at`.

    `cleared_at` comes from funds.cleared (cleared_at_for_day for a typed date); record_group refuses
    a closed month again inside the transaction.
    """
    try:
        order, claimed = records.claim(Order, host, order_id, "contribution", [OrderStatus.PENDING.value])
        if not claimed:
            raise RecordError(f"contribution #{order.id} is {STATUS_WORDS[order.status]}, not expected: "
                              f"only an expected contribution can be marked received")
        before = snapshot(order)
        group = ledger.record_order_paid(order, cleared_at=cleared_at, created_by=user)
        order.data = {**(order.data or {}), "group_id": group[0].group_id}
        audit.record(host, user, "contribution.receive", order, before=before, after=snapshot(order),
                     data={"group_id": group[0].group_id, "cleared_at": cleared_at.isoformat()})
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        _refuse(error)
    return order


def snapshot(order):
    """The fields shown in the audit log."""
    return {"status": order.status, "amount": order.amount, "currency": order.currency,
            "collective": order.to_account.slug, "contributor": order.from_account.name,
            "description": order.description, "paid_at": order.paid_at.isoformat() if order.paid_at else None}


def page(host, filters, after=None):
    """(orders, next cursor) of the host's contributions matching `filters`, newest first."""
    query = records.filtered(host, Order, select(Order), filters, collective_column=Order.to_account_id,
                             party_column=Order.from_account_id)
    return records.keyset_page(Order, query, after)


def history(order):
    """The chain this order belongs to, oldest first: original → (reversal) → replacement …"""
    chain, seen = [order], {order.id}
    current = order
    while (previous := (current.data or {}).get("replaces_order_id")) and previous not in seen:
        current = db.session.get(Order, previous)
        if current is None or current.host_id != order.host_id:
            break
        chain.insert(0, current)
        seen.add(current.id)
    current = order
    while (following := (current.data or {}).get("replaced_by_order_id")) and following not in seen:
        current = db.session.get(Order, following)
        if current is None or current.host_id != order.host_id:
            break
        chain.append(current)
        seen.add(current.id)
    return chain


def details(host, order):
    """What a contribution's page shows: its ledger groups, bank lines and history."""
    return {"groups": records.ledger_groups(host, LedgerTransaction.order_id, order.id),
            "bank_lines": records.bank_lines(host, ImportRow.order_id, order.id),
            "history": history(order)}


def _refuse(error):
    if isinstance(error, RecordError):
        raise error
    if isinstance(error, (ledger.LedgerError, ValidationError)):
        raise RecordError(str(error)) from error
    raise error
