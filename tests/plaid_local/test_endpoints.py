"""Every Plaid endpoint through the real plaid-python client: typed results and error shapes."""
import json
from datetime import timedelta

import plaid
import pytest
import urllib3
from plaid.model.accounts_get_request import AccountsGetRequest
from plaid.model.accounts_get_request_options import AccountsGetRequestOptions
from plaid.model.country_code import CountryCode
from plaid.model.custom_sandbox_transaction import CustomSandboxTransaction
from plaid.model.item_get_request import ItemGetRequest
from plaid.model.item_public_token_exchange_request import ItemPublicTokenExchangeRequest
from plaid.model.item_remove_request import ItemRemoveRequest
from plaid.model.item_webhook_update_request import ItemWebhookUpdateRequest
from plaid.model.link_token_create_request import LinkTokenCreateRequest
from plaid.model.link_token_create_request_update import LinkTokenCreateRequestUpdate
from plaid.model.link_token_create_request_user import LinkTokenCreateRequestUser
from plaid.model.link_token_transactions import LinkTokenTransactions
from plaid.model.products import Products
from plaid.model.sandbox_item_fire_webhook_request import SandboxItemFireWebhookRequest
from plaid.model.sandbox_item_reset_login_request import SandboxItemResetLoginRequest
from plaid.model.sandbox_public_token_create_request import SandboxPublicTokenCreateRequest
from plaid.model.sandbox_transactions_create_request import SandboxTransactionsCreateRequest
from plaid.model.transactions_refresh_request import TransactionsRefreshRequest
from plaid.model.transactions_sync_request import TransactionsSyncRequest
from plaid.model.webhook_type import WebhookType
from plaid.model.webhook_verification_key_get_request import WebhookVerificationKeyGetRequest

from .helpers import error_of


def plaid_error(call, *args, **kwargs) -> tuple[int, dict]:
    """Call a client method that must fail; return (HTTP status, PlaidError body)."""
    with pytest.raises(plaid.ApiException) as info:
        call(*args, **kwargs)
    return info.value.status, error_of(info.value)


def link_request(**extra):
    return LinkTokenCreateRequest(
        client_name="Host Admin", language="en", country_codes=[CountryCode("US")],
        user=LinkTokenCreateRequestUser(client_user_id="host-1"), **extra)


def test_link_token_create_normal_and_update_mode(api, item, server, clock):
    normal = api.link_token_create(link_request(
        products=[Products("transactions")], transactions=LinkTokenTransactions(
            days_requested=730), webhook="https://example.com/plaid/webhook"))
    assert normal.link_token.startswith("link-sandbox-")
    assert normal.expiration == clock() + timedelta(hours=4)
    update = api.link_token_create(link_request(
        access_token=item.access_token,
        update=LinkTokenCreateRequestUpdate(account_selection_enabled=True)))
    assert update.expiration == clock() + timedelta(minutes=30)
    session = server.emulator.link_session(update.link_token)
    assert session["item_id"] == item.item_id and session["account_selection_enabled"]


def raw_post(server, path: str, body) -> urllib3.BaseHTTPResponse:
    """POST outside plaid-python, for requests its client-side validation would refuse."""
    headers = {"PLAID-CLIENT-ID": "hostadmin-local", "PLAID-SECRET": "local-secret",
               "Content-Type": "application/json"}
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return urllib3.PoolManager().request("POST", server.url + path, body=data, headers=headers)


def test_link_token_create_validates_request(api, server):
    base = {"client_name": "Host Admin", "language": "en", "country_codes": ["US"],
            "user": {"client_user_id": "host-1"}, "products": ["transactions"]}
    for broken in ({"country_codes": []}, {"user": {"client_user_id": ""}}):
        resp = raw_post(server, "/link/token/create", {**base, **broken})
        assert resp.status == 400
        assert (resp.json()["error_type"], resp.json()["error_code"]) == ("INVALID_REQUEST",
                                                                          "INVALID_FIELD")
    resp = raw_post(server, "/link/token/create", {k: v for k, v in base.items() if k != "user"})
    assert resp.json()["error_code"] == "MISSING_FIELDS"
    _, err = plaid_error(api.link_token_create, link_request(products=[Products("balance")]))
    assert err["error_code"] == "INVALID_FIELD"
    _, err = plaid_error(api.link_token_create, link_request(
        access_token="access-sandbox-nope"))
    assert err["error_code"] == "INVALID_ACCESS_TOKEN"


def test_public_token_is_single_use_and_expires(api, server, clock):
    item = server.create_item()
    public_token = server.emulator.issue_public_token(item.item_id)
    exchanged = api.item_public_token_exchange(
        ItemPublicTokenExchangeRequest(public_token=public_token))
    assert exchanged.access_token == item.access_token
    assert exchanged.item_id == item.item_id
    status, err = plaid_error(api.item_public_token_exchange,
                              ItemPublicTokenExchangeRequest(public_token=public_token))
    assert (status, err["error_type"], err["error_code"]) == (400, "INVALID_INPUT",
                                                              "INVALID_PUBLIC_TOKEN")
    stale = server.emulator.issue_public_token(item.item_id)
    clock.advance(minutes=31)
    _, err = plaid_error(api.item_public_token_exchange,
                         ItemPublicTokenExchangeRequest(public_token=stale))
    assert err["error_code"] == "INVALID_PUBLIC_TOKEN"


def test_accounts_get_returns_checking_savings_and_credit(api, item):
    resp = api.accounts_get(AccountsGetRequest(access_token=item.access_token))
    assert [(a.type.value, a.subtype.value) for a in resp.accounts] == [
        ("depository", "checking"), ("depository", "savings"), ("credit", "credit card")]
    credit = resp.accounts[2]
    assert credit.balances.limit > credit.balances.current > 0
    assert all(len(a.mask) == 4 and a.name for a in resp.accounts)
    assert resp.item.item_id == item.item_id and resp.item.error is None
    one = api.accounts_get(AccountsGetRequest(
        access_token=item.access_token,
        options=AccountsGetRequestOptions(account_ids=[credit.account_id])))
    assert [a.account_id for a in one.accounts] == [credit.account_id]


def test_persistent_account_id_only_at_tokenizing_bank(api, server):
    tartan = server.link_item("ins_109511", client=api)
    platypus = server.link_item("ins_109508", client=api)
    tartan_accounts = api.accounts_get(AccountsGetRequest(access_token=tartan.access_token))
    platypus_accounts = api.accounts_get(AccountsGetRequest(
        access_token=platypus.access_token))
    assert all(a.get("persistent_account_id") for a in tartan_accounts.accounts)
    assert not any(a.get("persistent_account_id") for a in platypus_accounts.accounts)


def test_item_get_reports_status_and_error_inside_200(api, item, server):
    resp = api.item_get(ItemGetRequest(access_token=item.access_token))
    assert resp.item.institution_id == "ins_109508"
    assert resp.item.institution_name == "First Platypus Bank"
    assert resp.item.error is None and resp.item.created_at is not None
    assert resp.status.transactions.last_successful_update is not None
    api.sandbox_item_reset_login(SandboxItemResetLoginRequest(access_token=item.access_token))
    resp = api.item_get(ItemGetRequest(access_token=item.access_token))
    assert resp.item.error.error_code == "ITEM_LOGIN_REQUIRED"
    assert resp.status.last_webhook.code_sent == "ERROR"


@pytest.mark.parametrize("call, request_type", [
    ("accounts_get", AccountsGetRequest),
    ("transactions_sync", TransactionsSyncRequest),
    ("transactions_refresh", TransactionsRefreshRequest),
])
def test_item_in_error_fails_every_data_endpoint(api, item, call, request_type):
    api.sandbox_item_reset_login(SandboxItemResetLoginRequest(access_token=item.access_token))
    status, err = plaid_error(getattr(api, call), request_type(access_token=item.access_token))
    assert (status, err["error_type"], err["error_code"]) == (400, "ITEM_ERROR",
                                                              "ITEM_LOGIN_REQUIRED")
    assert err["request_id"] and err["display_message"] is None


def test_item_remove_kills_the_access_token(api, item):
    resp = api.item_remove(ItemRemoveRequest(access_token=item.access_token))
    assert resp.request_id
    status, err = plaid_error(api.accounts_get, AccountsGetRequest(
        access_token=item.access_token))
    assert status == 400 and err["error_code"] == "ITEM_NOT_FOUND"


def test_unknown_access_token(api):
    status, err = plaid_error(api.item_get, ItemGetRequest(access_token="access-sandbox-x"))
    assert (status, err["error_type"], err["error_code"], err["error_message"]) == (
        400, "INVALID_INPUT", "INVALID_ACCESS_TOKEN", "could not find matching access token")


def test_item_webhook_update_acknowledges_to_new_url(api, item, server, receiver):
    new_url = receiver.url + "?new=1"
    resp = api.item_webhook_update(ItemWebhookUpdateRequest(
        access_token=item.access_token, webhook=new_url))
    assert resp.item.webhook == new_url
    (row,) = [r for r in server.outbox(item.item_id)
              if r["webhook_code"] == "WEBHOOK_UPDATE_ACKNOWLEDGED"]
    assert row["url"] == new_url
    assert json.loads(row["body"])["new_webhook_url"] == new_url
    cleared = api.item_webhook_update(ItemWebhookUpdateRequest(
        access_token=item.access_token, webhook=None))
    assert cleared.item.webhook is None


def test_webhook_verification_key_get(api, server):
    kid = server.emulator.keys.active_kid()
    key = api.webhook_verification_key_get(WebhookVerificationKeyGetRequest(key_id=kid)).key
    assert (key.alg, key.crv, key.kty, key.use, key.kid) == ("ES256", "P-256", "EC", "sig", kid)
    assert key.expired_at is None and isinstance(key.created_at, int)
    status, err = plaid_error(api.webhook_verification_key_get,
                              WebhookVerificationKeyGetRequest(key_id="nope"))
    assert (status, err["error_type"], err["error_code"]) == (
        400, "INVALID_INPUT", "INVALID_WEBHOOK_VERIFICATION_KEY_ID")


def test_sandbox_public_token_create_rejects_unknown_institution(api):
    status, err = plaid_error(api.sandbox_public_token_create, SandboxPublicTokenCreateRequest(
        institution_id="ins_nope", initial_products=[Products("transactions")]))
    assert (status, err["error_code"]) == (400, "INVALID_INSTITUTION")


def test_sandbox_fire_webhook(api, item, server):
    resp = api.sandbox_item_fire_webhook(SandboxItemFireWebhookRequest(
        access_token=item.access_token, webhook_code="SYNC_UPDATES_AVAILABLE",
        webhook_type=WebhookType("TRANSACTIONS")))
    assert resp.webhook_fired is True
    body = json.loads(server.outbox(item.item_id)[-1]["body"])
    assert body == {"webhook_type": "TRANSACTIONS", "webhook_code": "SYNC_UPDATES_AVAILABLE",
                    "item_id": item.item_id, "initial_update_complete": True,
                    "historical_update_complete": True, "environment": "sandbox"}
    _, err = plaid_error(api.sandbox_item_fire_webhook, SandboxItemFireWebhookRequest(
        access_token=item.access_token, webhook_code="NOT_A_CODE"))
    assert err["error_code"] == "INVALID_FIELD"
    _, err = plaid_error(api.sandbox_item_fire_webhook, SandboxItemFireWebhookRequest(
        access_token=item.access_token, webhook_code="SMS_MICRODEPOSITS_VERIFICATION"))
    assert err["error_code"] == "SANDBOX_PRODUCT_NOT_ENABLED"


def test_sandbox_transactions_create_adds_posted_transactions(api, item, server, clock):
    today = clock().date()
    api.sandbox_transactions_create(SandboxTransactionsCreateRequest(
        access_token=item.access_token, transactions=[CustomSandboxTransaction(
            date_transacted=today - timedelta(days=2), date_posted=today, amount=-250.0,
            description="DONATION FROM ADA")]))
    (txn,) = [t for t in server.transactions(item.item_id).values()
              if t["name"] == "DONATION FROM ADA"]
    assert (txn["amount"], txn["pending"], txn["date"]) == (-250.0, False, today.isoformat())
    assert txn["authorized_date"] == (today - timedelta(days=2)).isoformat()
    _, err = plaid_error(api.sandbox_transactions_create, SandboxTransactionsCreateRequest(
        access_token=item.access_token, transactions=[CustomSandboxTransaction(
            date_transacted=today - timedelta(days=30), date_posted=today, amount=1.0,
            description="TOO OLD")]))
    assert (err["error_type"], err["error_code"]) == ("INVALID_REQUEST", "INVALID_FIELD")


def test_refresh_gives_dynamic_user_new_activity(api, server, receiver):
    item = server.link_item(webhook=receiver.url, client=api,
                            override_username="user_transactions_dynamic")
    api.transactions_sync(TransactionsSyncRequest(access_token=item.access_token))
    before = server.transactions(item.item_id)
    api.transactions_refresh(TransactionsRefreshRequest(access_token=item.access_token))
    after = server.transactions(item.item_id)
    assert after != before
    posted = [t for t in after.values() if t["pending_transaction_id"]]
    assert posted and all(t["pending_transaction_id"] not in after for t in posted)
    assert any(r["webhook_code"] == "SYNC_UPDATES_AVAILABLE" for r in server.outbox(item.item_id))


def test_bad_credentials_and_body_credentials(server):
    bad = server.plaid_client(client_id="someone", secret="wrong")
    status, err = plaid_error(bad.item_get, ItemGetRequest(access_token="x"))
    assert (status, err["error_type"], err["error_code"]) == (400, "INVALID_INPUT",
                                                              "INVALID_API_KEYS")
    resp = urllib3.PoolManager().request(
        "POST", server.url + "/webhook_verification_key/get", json={
            "client_id": "hostadmin-local", "secret": "local-secret",
            "key_id": server.emulator.keys.active_kid()})
    assert resp.status == 200 and resp.json()["key"]["alg"] == "ES256"


def test_malformed_body_and_bad_count_are_invalid_request(server, item):
    resp = raw_post(server, "/transactions/sync", b"{not json")
    assert resp.status == 400 and resp.json()["error_code"] == "INVALID_BODY"
    for count in (0, 501, "10", True):
        resp = raw_post(server, "/transactions/sync",
                        {"access_token": item.access_token, "count": count})
        assert resp.status == 400
        assert (resp.json()["error_type"], resp.json()["error_code"]) == ("INVALID_REQUEST",
                                                                          "INVALID_FIELD")
    resp = raw_post(server, "/transactions/sync", {})
    assert resp.json()["error_code"] == "MISSING_FIELDS"
