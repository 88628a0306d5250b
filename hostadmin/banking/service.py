"""Connections: Link tokens bound to a host and user, connect/reconnect, sync now, disconnect."""
from datetime import timedelta

import plaid
from flask import current_app
from plaid.model.country_code import CountryCode
from plaid.model.item_remove_request import ItemRemoveRequest
from plaid.model.link_token_create_request import LinkTokenCreateRequest
from plaid.model.link_token_create_request_update import LinkTokenCreateRequestUpdate
from plaid.model.link_token_create_request_user import LinkTokenCreateRequestUser
from plaid.model.link_token_transactions import LinkTokenTransactions
from plaid.model.products import Products
from sqlalchemy import select

from hostadmin.audit.service import record as audit
from hostadmin.banking import connect
from hostadmin.banking.crypto import decrypt_token
from hostadmin.banking.models import ItemStatus, LinkTokenGrant, PlaidItem
from hostadmin.banking.plaid_client import plaid_error, timeout
from hostadmin.clock import utcnow
from hostadmin.extensions import db
from hostadmin.imports.models import ImportRun, TransactionsImport

CONNECT, RECONNECT, NEW_ACCOUNTS = "CONNECT", "RECONNECT", "NEW_ACCOUNTS"
# Plaid's own lifetimes: 4 h for a new Item, 30 min in update mode.
LIFETIME = {CONNECT: timedelta(hours=4), RECONNECT: timedelta(minutes=30), NEW_ACCOUNTS: timedelta(minutes=30)}
# Statuses a completed update-mode Link clears (the user signed in again / renewed consent).
REPAIRED_BY_RECONNECT = frozenset({ItemStatus.LOGIN_REQUIRED.value, ItemStatus.PENDING_EXPIRATION.value,
                                   ItemStatus.PENDING_DISCONNECT.value, ItemStatus.ERROR.value})


class ConnectError(Exception):
    """A connect or update step the admin must be told about (message is for people)."""


def create_link_token(client, host, user, purpose=CONNECT, item=None):
    """Ask Plaid for a Link token and remember who it was issued to."""
    fields = dict(client_name=host.name[:30], language="en", country_codes=[CountryCode("US")],
                  user=LinkTokenCreateRequestUser(client_user_id=f"host-{host.id}-user-{user.id}"))
    if current_app.config.get("PLAID_REDIRECT_URI"):
        # OAuth banks send the browser back here; Link resumes at banking.oauth (connect and update mode).
        fields["redirect_uri"] = current_app.config["PLAID_REDIRECT_URI"]
    if purpose == CONNECT:
        fields.update(products=[Products("transactions")], webhook=connect.webhook_url(),
                      transactions=LinkTokenTransactions(days_requested=730))
    else:
        # Update mode: no products, and the webhook is changed with /item/webhook/update instead.
        fields["access_token"] = decrypt_token(item.access_token_encrypted)
        if purpose == NEW_ACCOUNTS:
            fields["update"] = LinkTokenCreateRequestUpdate(account_selection_enabled=True)
    try:
        response = client.link_token_create(LinkTokenCreateRequest(**fields), _request_timeout=timeout())
    except plaid.ApiException as exc:
        raise ConnectError(f"Plaid could not start Link: {plaid_error(exc)[2]} Try again in a minute.") \
            from None
    except Exception:  # noqa: BLE001 (timeouts, refused connections, malformed answers: urllib3/plaid types)
        raise ConnectError("Plaid did not answer in time, so Link could not start. Try again in a minute.") \
            from None
    now = utcnow()
    db.session.add(LinkTokenGrant(link_token=response.link_token, host_id=host.id, user_id=user.id,
                                  item_id=item.id if item else None, purpose=purpose,
                                  created_at=now, expires_at=now + LIFETIME[purpose]))
    db.session.commit()
    return response.link_token


def redeem_grant(host, user, link_token, purpose, item=None):
    """The unused, unexpired grant for this link token issued to this host and user, now marked used."""
    grant = db.session.scalar(select(LinkTokenGrant).where(LinkTokenGrant.link_token == link_token))
    if (grant is None or grant.host_id != host.id or grant.user_id != user.id or grant.purpose != purpose
            or (item is not None and grant.item_id != item.id)):
        raise ConnectError("This bank connection was not started from your session. Start again.")
    if grant.used_at is not None:
        raise ConnectError("This bank connection was already completed.")
    if grant.expires_at < utcnow():
        raise ConnectError("This bank connection took too long and expired. Start again.")
    grant.used_at = utcnow()
    return grant


def resumable_grant(user, link_token):
    """The unused, unexpired grant issued to this user for a Link an OAuth bank interrupted, or None."""
    grant = db.session.scalar(select(LinkTokenGrant).where(LinkTokenGrant.link_token == link_token))
    if grant is None or grant.user_id != user.id or grant.used_at is not None or grant.expires_at < utcnow():
        return None
    return grant


def complete_connect(client, host, user, link_token, public_token):
    """Exchange the public token from Link and store the item; returns it (first sync not yet queued)."""
    redeem_grant(host, user, link_token, CONNECT)
    try:
        item = connect.exchange_and_store(host, client, public_token, user=user)
    except connect.AlreadyConnected:
        db.session.commit()  # the grant stays used
        raise
    except plaid.ApiException as exc:
        db.session.rollback()
        raise ConnectError(f"Plaid refused the connection: {plaid_error(exc)[2]}") from None
    audit(host, user, "plaid_item.connect", item, after={"institution": item.display_name,
                                                        "accounts": [a.label for a in item.accounts]})
    db.session.commit()
    return item




def complete_update(host, user, item, link_token, purpose):
    """Update-mode Link finished (no exchange needed: the access token does not change)."""
    redeem_grant(host, user, link_token, purpose, item=item)
    before = {"status": item.status, "error_code": item.error_code}
    if item.status in REPAIRED_BY_RECONNECT:
        # Link succeeding in update mode is the login repaired (or consent renewed): the page shows one
        # state, not "reconnected" and "needs attention" side by side. A failing sync sets it again.
        item.status, item.error_code, item.error_message = ItemStatus.HEALTHY.value, None, None
        item.status_changed_at = utcnow()
    audit(host, user, f"plaid_item.{purpose.lower()}", item, before=before,
          after={"status": item.status, "error_code": item.error_code})
    db.session.commit()


def disconnect(client, host, user, item):
    """Stop syncing an item: /item/remove (stops Plaid billing), keep every row and run."""
    if item.status == ItemStatus.DISCONNECTED.value:
        return
    try:
        client.item_remove(ItemRemoveRequest(access_token=decrypt_token(item.access_token_encrypted)),
                           _request_timeout=timeout())
    except plaid.ApiException as exc:
        code = plaid_error(exc)[0]
        if code not in ("ITEM_NOT_FOUND", "INVALID_ACCESS_TOKEN"):  # already gone at Plaid is fine
            raise ConnectError(f"Plaid could not remove the connection: {plaid_error(exc)[2]}") from None
    before = item.status
    item.status = ItemStatus.DISCONNECTED.value
    item.disconnected_at = item.status_changed_at = utcnow()
    item.new_accounts_available = False
    audit(host, user, "plaid_item.disconnect", item, before={"status": before},
          after={"status": item.status})
    db.session.commit()


def remove_from_list(host, user, item):
    """Take a disconnected connection off the Connections list; its import, rows and runs stay."""
    if item.status != ItemStatus.DISCONNECTED.value:
        raise ConnectError("Disconnect the bank before removing it from the list.")
    if item.removed_from_list_at is None:
        item.removed_from_list_at = utcnow()
        audit(host, user, "plaid_item.remove_from_list", item, after={"removed_from_list_at": True})
    db.session.commit()


def items_of(host):
    """The host's connections still on the list, connected ones first, newest first."""
    items = db.session.scalars(select(PlaidItem).where(PlaidItem.host_id == host.id,
                                                       PlaidItem.removed_from_list_at.is_(None))
                               .order_by(PlaidItem.id.desc())).all()
    return sorted(items, key=lambda i: i.status == ItemStatus.DISCONNECTED.value)


def recent_runs(item, limit=10):
    """The item's latest sync runs, newest first."""
    return db.session.scalars(
        select(ImportRun).join(TransactionsImport, TransactionsImport.id == ImportRun.import_id)
        .where(TransactionsImport.plaid_item_id == item.id).order_by(ImportRun.id.desc()).limit(limit)).all()


def link_script_url():
    """Plaid's Link script, or the local emulator's drop-in replacement in local mode."""
    config = current_app.config
    if config["PLAID_ENV"] == "local":
        return config["PLAID_HOST"].rstrip("/") + "/link/v2/stable/link-initialize.js"
    return "https://cdn.plaid.com/link/v2/stable/link-initialize.js"
