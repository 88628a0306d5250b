"""Connecting a bank: exchanging a public token and storing the item, its accounts and its import.

Used by the Connect page (after Plaid Link) and `flask plaid sandbox-connect`.
"""
from plaid.model.accounts_get_request import AccountsGetRequest
from plaid.model.item_get_request import ItemGetRequest
from plaid.model.item_public_token_exchange_request import ItemPublicTokenExchangeRequest
from plaid.model.item_remove_request import ItemRemoveRequest
from plaid.model.products import Products
from plaid.model.sandbox_public_token_create_request import SandboxPublicTokenCreateRequest
from plaid.model.sandbox_public_token_create_request_options import SandboxPublicTokenCreateRequestOptions
from flask import current_app
from sqlalchemy import func, select

from hostadmin.banking.accounts import follow_churn, match
from hostadmin.banking.apply import bank_account_from_plaid
from hostadmin.banking.crypto import encrypt_token
from hostadmin.banking.models import BankAccount, ItemStatus, PlaidItem
from hostadmin.banking.plaid_client import timeout
from hostadmin.clock import utcnow
from hostadmin.extensions import db
from hostadmin.imports.models import ImportRow, TransactionsImport
from hostadmin.text import clean_line


class AlreadyConnected(Exception):
    """The bank login holds accounts this host already syncs; `existing` is their item."""

    def __init__(self, existing, accounts):
        super().__init__(f"{', '.join(a.label for a in accounts)} already synced through {existing.display_name}")
        self.existing = existing
        self.accounts = accounts


def webhook_url():
    """Where Plaid should send this app's webhooks."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + "/webhooks/plaid"


def exchange_and_store(host, client, public_token, user=None):
    """Exchange a public token and store the item; raises AlreadyConnected for a duplicate bank account."""
    exchanged = client.item_public_token_exchange(
        ItemPublicTokenExchangeRequest(public_token=public_token), _request_timeout=timeout())
    access_token = exchanged.access_token
    accounts_response = client.accounts_get(AccountsGetRequest(access_token=access_token), _request_timeout=timeout())
    plaid_item = accounts_response.item
    institution_id = plaid_item.get("institution_id")
    duplicates = duplicate_accounts(host, institution_id, accounts_response.accounts)
    if duplicates:
        # Stop Plaid billing for the copy we will not keep (PLAID.md §15.24).
        client.item_remove(ItemRemoveRequest(access_token=access_token), _request_timeout=timeout())
        existing = db.session.get(PlaidItem, duplicates[0].item_id)
        raise AlreadyConnected(existing, duplicates)
    institution_name = plaid_item.get("institution_name")
    if institution_name is None:
        institution_name = client.item_get(ItemGetRequest(access_token=access_token),
                                           _request_timeout=timeout()).item.get("institution_name")
    fields = dict(plaid_item_id=exchanged.item_id, access_token_encrypted=encrypt_token(access_token),
                  institution_id=institution_id, institution_name=clean_line(institution_name, 200),
                  status=ItemStatus.HEALTHY.value, webhook_url=plaid_item.get("webhook"))
    item = disconnected_item_of(host, institution_id, accounts_response.accounts)
    if item is not None:
        # The same bank connected again: keep its import, bank accounts and default collectives.
        for key, value in dict(fields, error_code=None, error_message=None, cursor=None, last_sync_error=None,
                               disconnected_at=None, removed_from_list_at=None, new_accounts_available=False,
                               status_changed_at=utcnow()).items():
            setattr(item, key, value)
    else:
        item = PlaidItem(host_id=host.id, created_by_id=user.id if user else None, **fields)
        db.session.add(item)
        db.session.flush()
        db.session.add(TransactionsImport(host_id=host.id, source="PLAID", name=item.display_name,
                                          plaid_item_id=item.id))
    known = list(item.accounts)
    for plaid_account in accounts_response.accounts:
        account = match(known, plaid_account)
        if account is not None:
            follow_churn(item, account, plaid_account)
            known.remove(account)
            # The new Item re-sends old history under new ids: keep only what is newer than the last row.
            # The last day is read again (it may have been incomplete), at the risk of a duplicate there.
            account.history_from = db.session.scalar(select(func.max(ImportRow.date))
                                                     .where(ImportRow.bank_account_id == account.id))
            # An admin's earlier choice stands; an undecided account was just chosen in Link.
            account.synced = account.synced if account.reviewed_at else True
        else:
            account = bank_account_from_plaid(item, plaid_account)
            db.session.add(account)
        account.reviewed_at = utcnow()  # chosen in Link by the admin who connected
    db.session.commit()
    return item


def disconnected_item_of(host, institution_id, plaid_accounts):
    """The host's latest disconnected connection to this bank holding any of these accounts, or None."""
    items = db.session.scalars(select(PlaidItem).where(
        PlaidItem.host_id == host.id, PlaidItem.institution_id == institution_id,
        PlaidItem.status == ItemStatus.DISCONNECTED.value).order_by(PlaidItem.id.desc())).all()
    for item in items:
        if any(match(item.accounts, plaid_account) for plaid_account in plaid_accounts):
            return item
    return None


def duplicate_accounts(host, institution_id, plaid_accounts):
    """The host's synced bank accounts that are the same as any of these Plaid accounts.

    Same institution and persistent_account_id, or same institution, mask, name and type
    (account_ids differ between two Items of the same login, so they cannot be compared).
    """
    existing = db.session.scalars(
        select(BankAccount).join(PlaidItem, PlaidItem.id == BankAccount.item_id)
        .where(PlaidItem.host_id == host.id, PlaidItem.institution_id == institution_id,
               PlaidItem.status != ItemStatus.DISCONNECTED.value, BankAccount.synced.is_(True))).all()
    found = []
    for plaid_account in plaid_accounts:
        # Compared as stored: cleaned the way bank_account_from_plaid cleans them.
        persistent = clean_line(plaid_account.get("persistent_account_id"), 200)
        mask, name = clean_line(plaid_account.get("mask"), 10), clean_line(plaid_account.get("name"), 200)
        for account in existing:
            same_persistent = persistent and account.persistent_account_id == persistent
            same_shape = (account.mask == mask and account.name == name
                          and account.type == clean_line(str(plaid_account.get("type")), 30))
            if (same_persistent or same_shape) and account not in found:
                found.append(account)
    return found


def sandbox_connect(host, client, institution_id="ins_109508", user=None):
    """Create an item with /sandbox/public_token/create (sandbox or the emulator) and store it."""
    request = SandboxPublicTokenCreateRequest(
        institution_id=institution_id, initial_products=[Products("transactions")],
        options=SandboxPublicTokenCreateRequestOptions(webhook=webhook_url()))
    public_token = client.sandbox_public_token_create(request, _request_timeout=timeout()).public_token
    return exchange_and_store(host, client, public_token, user=user)
