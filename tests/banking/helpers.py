"""Helpers for comparing hostadmin's import rows with the emulator's truth."""
from decimal import Decimal

from sqlalchemy import select

from hostadmin.extensions import db
from hostadmin.money import minor_digits
from hostadmin.imports.models import ImportRow


def active_rows(item):
    """{source_id: (amount, pending)} of the item's rows not removed by the bank."""
    rows = db.session.execute(
        select(ImportRow.source_id, ImportRow.amount, ImportRow.pending).where(
            ImportRow.import_id == _import_id(item), ImportRow.removed_at.is_(None))).all()
    return {source_id: (amount, pending) for source_id, amount, pending in rows}


def _import_id(item):
    from hostadmin.banking.sync import import_of
    return import_of(item).id


def truth(plaid, item):
    """The emulator's current transactions as {id: (amount in hostadmin terms, pending)}.

    Scaled by each transaction's own currency (JPY 0 decimals, KWD 3), never by a fixed 100.
    """
    return {tid: (-int(Decimal(repr(t["amount"])).scaleb(minor_digits(_currency(t)))), t["pending"])
            for tid, t in plaid.transactions(item.plaid_item_id).items()}


def _currency(transaction):
    return transaction.get("iso_currency_code") or transaction.get("unofficial_currency_code") or "USD"


def all_rows(item):
    return db.session.scalars(select(ImportRow).where(ImportRow.import_id == _import_id(item))
                              .order_by(ImportRow.id)).all()
