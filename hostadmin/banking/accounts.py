"""A connection's accounts: what Plaid reports now beside what hostadmin knows, and which are imported.

Accounts are matched by account_id, then persistent_account_id, then (institution, mask, name, type),
so Plaid's account churn (a new account_id for the same account) lands on the existing bank account.
"""
from dataclasses import dataclass

import plaid
from plaid.model.accounts_get_request import AccountsGetRequest
from sqlalchemy import func, select

from hostadmin.audit.service import record as audit
from hostadmin.banking.apply import bank_account_from_plaid
from hostadmin.banking.crypto import decrypt_token
from hostadmin.banking.models import BankAccount, ItemStatus, PlaidItem
from hostadmin.banking.plaid_client import plaid_error, timeout
from hostadmin.clock import utcnow
from hostadmin.extensions import db
from hostadmin.imports.models import ImportRow
from hostadmin.ledger.models import Account, AccountKind, Host
from hostadmin.text import clean_line

NEW, SYNCED, NOT_SYNCED, GONE, ELSEWHERE = "new", "synced", "not-synced", "gone", "elsewhere"


class AccountsError(Exception):
    """Plaid could not list the accounts now (message is for people)."""


@dataclass
class AccountLine:
    """One row of a connection's Accounts page."""

    account: BankAccount
    state: str
    rows: int = 0
    last_date: object = None
    elsewhere: BankAccount | None = None

    @property
    def selectable(self):
        return self.state != ELSEWHERE


def _shape(get):
    return (clean_line(get("mask"), 10), clean_line(get("name"), 200), clean_line(str(get("type")), 30))


def _getter(obj):
    """`get(key)` for a typed (plaid-python), decoded (msgspec) or dict-like Plaid account."""
    return obj.get if hasattr(obj, "get") else lambda key: getattr(obj, key, None)


def match(accounts, plaid_account):
    """The stored account that is this Plaid account: same account_id, persistent id, or shape."""
    get = _getter(plaid_account)
    by_id = [a for a in accounts if a.plaid_account_id == get("account_id")]
    if by_id:
        return by_id[0]
    persistent = clean_line(get("persistent_account_id"), 200)
    if persistent:
        for account in accounts:
            if account.persistent_account_id == persistent:
                return account
    shape = _shape(get)
    for account in accounts:
        # Without persistent ids on both sides, mask, name and type identify the account.
        both_persistent = persistent and account.persistent_account_id
        if not both_persistent and (account.mask, account.name, account.type) == shape:
            return account
    return None


def fetch(client, item):
    """The accounts Plaid shares for the item now (/accounts/get); raises AccountsError."""
    try:
        request = AccountsGetRequest(access_token=decrypt_token(item.access_token_encrypted))
        response = client.accounts_get(request, _request_timeout=timeout())
    except plaid.ApiException as exc:
        raise AccountsError(f"Plaid could not list the accounts: {plaid_error(exc)[2]}") from None
    except Exception:  # noqa: BLE001 (timeouts and malformed answers: shown, the page still renders)
        raise AccountsError("Plaid did not answer in time. Try again in a minute.") from None
    return list(response.accounts)


def store_reported(item, plaid_accounts):
    """Store accounts Plaid reports that hostadmin lacks (new, not synced) and follow churned account_ids.

    Returns the ids of the item's bank accounts Plaid reports now. Not committed.
    """
    known = list(db.session.scalars(select(BankAccount).where(BankAccount.item_id == item.id)))
    reported = set()
    for plaid_account in plaid_accounts:
        account = match([a for a in known if a.id not in reported], plaid_account)
        if account is None:
            account = bank_account_from_plaid(item, plaid_account, synced=False)
            db.session.add(account)
            db.session.flush()
            known.append(account)
        else:
            follow_churn(item, account, plaid_account)
        reported.add(account.id)
    db.session.flush()
    return reported


def follow_churn(item, account, plaid_account):
    """Point the bank account at Plaid's new account_id for it (audited); its rows and assignment stay."""
    get = _getter(plaid_account)
    if account.plaid_account_id == get("account_id"):
        return
    audit(db.session.get(Host, item.host_id), None, "bank_account.account_id_changed", account,
          before={"account_id": account.plaid_account_id}, after={"account_id": get("account_id")})
    account.plaid_account_id = get("account_id")
    if get("persistent_account_id") and not account.persistent_account_id:
        account.persistent_account_id = clean_line(get("persistent_account_id"), 200)


def synced_elsewhere(item, account):
    """The bank account of another live connection of the host that already syncs this account."""
    others = db.session.scalars(
        select(BankAccount).join(PlaidItem, PlaidItem.id == BankAccount.item_id)
        .where(PlaidItem.host_id == item.host_id, PlaidItem.id != item.id,
               PlaidItem.institution_id == item.institution_id,
               PlaidItem.status != ItemStatus.DISCONNECTED.value, BankAccount.synced.is_(True))).all()
    return match(others, _AsPlaid(account)) if others else None


class _AsPlaid:
    """A stored bank account seen through the Plaid account interface `match` reads (ids never equal)."""

    def __init__(self, account):
        self._values = {"account_id": None, "persistent_account_id": account.persistent_account_id,
                        "mask": account.mask, "name": account.name, "type": account.type}

    def get(self, key):
        return self._values.get(key)


def lines(item, reported):
    """The Accounts page rows: every account hostadmin knows, with its state, row count and last date."""
    stats = dict((account_id, (count, last)) for account_id, count, last in db.session.execute(
        select(ImportRow.bank_account_id, func.count(), func.max(ImportRow.date))
        .where(ImportRow.bank_account_id.in_([a.id for a in item.accounts]))
        .group_by(ImportRow.bank_account_id)))
    out = []
    for account in item.accounts:
        elsewhere = None if account.synced else synced_elsewhere(item, account)
        if reported is not None and account.id not in reported:
            state = GONE
        elif elsewhere is not None:
            state = ELSEWHERE
        elif account.reviewed_at is None:
            state = NEW
        else:
            state = SYNCED if account.synced else NOT_SYNCED
        count, last = stats.get(account.id, (0, None))
        out.append(AccountLine(account, state, count, last, elsewhere))
    return out


def collectives(host):
    """The host's collectives, for the default-collective choice."""
    return db.session.scalars(select(Account).where(Account.host_id == host.id,
                                                    Account.kind == AccountKind.COLLECTIVE.value)
                              .order_by(Account.name)).all()


def choose(host, user, item, selected_ids, collective_ids):
    """Apply the admin's choice: which accounts are imported and each one's default collective.

    Returns True when an account was newly selected (a sync must import its history).
    """
    from hostadmin.imports.service import set_default_collective

    now, backfill = utcnow(), False
    choices = {c.id: c for c in collectives(host)}
    for line in lines(item, None):
        account = line.account
        wanted = account.id in selected_ids and line.selectable
        if wanted != account.synced or account.reviewed_at is None:
            audit(host, user, "bank_account.select" if wanted else "bank_account.deselect", account,
                  before={"synced": account.synced if account.reviewed_at else None},
                  after={"synced": wanted},
                  data={"item_id": item.id, "account": account.label})
        if wanted and not account.synced:
            backfill = True
        account.synced, account.reviewed_at = wanted, now
        if account.id in collective_ids:
            collective = choices.get(collective_ids[account.id])
            if (collective.id if collective else None) != account.default_collective_id:
                set_default_collective(host, user, account, collective)
    if backfill and item.cursor is not None:
        # Lines of accounts that were not synced were skipped and the cursor moved past them:
        # read the whole history again (rows already imported are recognised as duplicates).
        item.cursor = None
    if item.new_accounts_available:
        item.new_accounts_available = False
        audit(host, user, "plaid_item.new_accounts_decided", item, before={"new_accounts_available": True},
              after={"new_accounts_available": False})
    db.session.commit()
    return backfill


def dismiss(host, user, item):
    """Hide the new-accounts prompt until Plaid reports yet another account (audited)."""
    if item.new_accounts_available:
        item.new_accounts_available = False
        audit(host, user, "plaid_item.new_accounts_dismissed", item, before={"new_accounts_available": True},
              after={"new_accounts_available": False})
    db.session.commit()
