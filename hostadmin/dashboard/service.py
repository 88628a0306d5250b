"""Figures for the dashboard: balances, and what needs doing next."""
from dataclasses import dataclass, field

from sqlalchemy import case, select

from hostadmin.banking.banners import banners_for
from hostadmin.banking.models import ItemStatus, PlaidItem
from hostadmin.clock import utcnow
from hostadmin.extensions import db
from hostadmin.funds import cleared
from hostadmin.imports import queries
from hostadmin.imports.forms import Filters
from hostadmin.imports.models import RowStatus
from hostadmin.ledger.accounts import create_account
from hostadmin.ledger.models import Account, AccountKind, LedgerTransaction
from hostadmin.ledger.service import balances, host_account_of, joined_parts, sum_parts


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


@dataclass
class BankSync:
    """One connected bank: its state and when it last synced."""

    item: PlaidItem
    healthy: bool
    last_synced_at: object


@dataclass
class Todo:
    """What the dashboard asks the admin to do, and this month's figures."""

    to_triage: int
    to_triage_label: str
    attention: list = field(default_factory=list)     # banking.banners.Banner: logins, expiries, failing syncs
    new_accounts: list = field(default_factory=list)  # Banner of kind NEW_ACCOUNTS
    banks: list = field(default_factory=list)
    month: str = ""
    money_in: int = 0
    money_out: int = 0

    @property
    def empty(self):
        return not (self.to_triage or self.attention or self.new_accounts)


def todo(host, *, admin):
    """Rows to triage, connections needing attention, new accounts, each bank's last sync, this month's money.

    Banners are an admin's business (only admins can fix a connection); the figures are for everyone.
    """
    counts = queries.status_counts(host, Filters.from_args({}, host.currency))
    banners = banners_for(host) if admin else []
    month = cleared.month_of(host, utcnow())
    money_in, money_out = month_flows(host, month)
    items = db.session.scalars(select(PlaidItem).where(
        PlaidItem.host_id == host.id, PlaidItem.removed_from_list_at.is_(None),
        PlaidItem.status != ItemStatus.DISCONNECTED.value).order_by(PlaidItem.institution_name, PlaidItem.id)).all()
    return Todo(
        to_triage=counts[RowStatus.PENDING.value], to_triage_label=queries.count_label(counts, RowStatus.PENDING.value),
        attention=[b for b in banners if b.kind != "NEW_ACCOUNTS"],
        new_accounts=[b for b in banners if b.kind == "NEW_ACCOUNTS"],
        banks=[BankSync(item, item.status == ItemStatus.HEALTHY.value and not item.last_sync_error,
                        item.last_synced_at) for item in items],
        month=cleared.month_name(month), money_in=money_in, money_out=money_out)


def month_flows(host, month):
    """(money in, money out) of the host's collectives in `month` ("YYYY-MM", host zone), by cleared date:
    what the monthly report's totals say, in host-currency minor units."""
    start, end = cleared.month_bounds(host, month)
    amount = LedgerTransaction.amount_in_host_currency
    inflow, outflow = case((amount > 0, amount), else_=0), case((amount < 0, -amount), else_=0)
    # Summed in two bounded parts, as ledger balances are: no SUM overflows 64 bits on SQLite.
    row = db.session.execute(
        select(*sum_parts(inflow), *sum_parts(outflow))
        .join(Account, (Account.id == LedgerTransaction.account_id)
              & (Account.kind == AccountKind.COLLECTIVE.value))
        .where(LedgerTransaction.host_id == host.id, LedgerTransaction.cleared_at >= start,
               LedgerTransaction.cleared_at < end)).one()
    return joined_parts(row[0], row[1]), joined_parts(row[2], row[3])
