"""Figures for the dashboard."""
from dataclasses import dataclass

from sqlalchemy import select

from hostadmin.extensions import db
from hostadmin.ledger.accounts import create_account
from hostadmin.ledger.models import Account, AccountKind
from hostadmin.ledger.service import balances, host_account_of


@dataclass
class CollectiveBalance:
    account: Account
    balance: int


def collective_balances(host):
    """Each collective of the host with its balance (host-currency minor units), by name."""
    collectives = db.session.scalars(
        select(Account).where(Account.host_id == host.id, Account.kind == AccountKind.COLLECTIVE.value)
        .order_by(Account.name)).all()
    totals = balances(host, [c.id for c in collectives])
    return [CollectiveBalance(c, totals[c.id]) for c in collectives]


def host_fee_balance(host):
    """What the host has earned in fees (its own account's balance)."""
    account = host_account_of(host)
    return balances(host, [account.id])[account.id]


def add_collective(host, name):
    """Create a collective of the host and commit."""
    collective = create_account(host, AccountKind.COLLECTIVE, name)
    db.session.commit()
    return collective
