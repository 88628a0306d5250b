"""Chaos switches as the app's Plaid client sees them: errors, slowness, malformed bodies."""
import json

import plaid
import pytest
import urllib3
from plaid.model.accounts_get_request import AccountsGetRequest
from plaid.model.item_get_request import ItemGetRequest
from plaid.model.transactions_sync_request import TransactionsSyncRequest


def test_fail_next_calls_with_500_then_recover(api, item, server):
    server.fail_next("/accounts/get", "INTERNAL_SERVER_ERROR", count=2)
    for _ in range(2):
        with pytest.raises(plaid.ApiException) as info:
            api.accounts_get(AccountsGetRequest(access_token=item.access_token))
        assert isinstance(info.value, plaid.exceptions.ServiceException) and info.value.status == 500
        body = json.loads(info.value.body)
        assert (body["error_type"], body["error_code"]) == ("API_ERROR", "INTERNAL_SERVER_ERROR")
    assert api.accounts_get(AccountsGetRequest(access_token=item.access_token)).accounts


def test_rate_limit_is_429_with_retry_after(api, item, server):
    server.fail_next("/transactions/sync", "TRANSACTIONS_SYNC_LIMIT")
    with pytest.raises(plaid.ApiException) as info:
        api.transactions_sync(TransactionsSyncRequest(access_token=item.access_token))
    assert info.value.status == 429 and info.value.headers["Retry-After"] == "1"
    body = json.loads(info.value.body)
    assert (body["error_type"], body["error_code"]) == ("RATE_LIMIT_EXCEEDED",
                                                        "TRANSACTIONS_SYNC_LIMIT")


def test_slow_response_trips_the_client_timeout(api, item, server):
    server.delay_next("/item/get", 1.0)
    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        api.item_get(ItemGetRequest(access_token=item.access_token), _request_timeout=(5, 0.2))


def test_malformed_response_raises_type_error(api, item, server):
    server.malform_next("/transactions/sync", drop_key="next_cursor")
    with pytest.raises(TypeError):
        api.transactions_sync(TransactionsSyncRequest(access_token=item.access_token))
    assert api.transactions_sync(TransactionsSyncRequest(access_token=item.access_token))


def test_control_api_round_trip(server, api):
    http = server.app.test_client()
    created = http.post("/_emulator/items", json={"seed": 3}).get_json()
    item_id = created["item_id"]
    tids = http.post(f"/_emulator/items/{item_id}/transactions",
                     json={"count": 4, "seed": 9, "pending_share": 1.0}).get_json()
    posted = http.post("/_emulator/transactions/post",
                       json={"transaction_ids": tids["transaction_ids"][:2]}).get_json()
    assert len(posted["transaction_ids"]) == 2
    modified = http.post(f"/_emulator/transactions/{posted['transaction_ids'][0]}/modify",
                         json={"amount": -42.5}).get_json()
    assert modified["transaction"]["amount"] == -42.5
    http.post("/_emulator/transactions/remove",
              json={"transaction_ids": [tids["transaction_ids"][3]]})
    listed = http.get(f"/_emulator/items/{item_id}/transactions").get_json()["transactions"]
    assert {t["transaction_id"] for t in listed} == set(server.transactions(item_id))
    account = http.post(f"/_emulator/items/{item_id}/accounts").get_json()["account_id"]
    shown = http.get(f"/_emulator/items/{item_id}").get_json()
    assert any(a["account_id"] == account and not a["shared"] for a in shown["accounts"])
    assert http.post("/_emulator/faults", json={"endpoint": "/item/get", "kind": "error",
                                                "error_code": "PLANNED_MAINTENANCE"}).status_code == 200
    assert http.get("/_emulator/faults").get_json()["faults"][0]["endpoint"] == "/item/get"
    http.delete("/_emulator/faults")
    assert http.get("/_emulator/faults").get_json()["faults"] == []
    kid = http.post("/_emulator/keys/rotate").get_json()["kid"]
    assert http.get("/_emulator/keys").get_json()["active_kid"] == kid
    bad = http.post(f"/_emulator/items/{item_id}/webhook_defect", json={"defect": "nope"})
    assert bad.status_code == 400
    assert http.get("/_emulator/outbox").get_json()["webhooks"] == []


def test_control_api_is_loopback_only(server):
    http = server.app.test_client()
    resp = http.get("/_emulator/faults", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert resp.status_code == 403


def test_cli_commands_change_state(server):
    runner = server.app.test_cli_runner()
    result = runner.invoke(args=["emulator", "create-item", "--seed", "1",
                                 "--webhook", "http://127.0.0.1:9/hook"])
    assert result.exit_code == 0, result.output
    item_id = json.loads(result.output)["item_id"]
    before = len(server.transactions(item_id))
    result = runner.invoke(args=["emulator", "add-transactions", item_id, "--count", "3",
                                 "--seed", "2"])
    assert result.exit_code == 0 and len(server.transactions(item_id)) == before + 3
    result = runner.invoke(args=["emulator", "add-transaction", item_id, "--amount", "-99.5",
                                 "--name", "GRANT"])
    assert result.exit_code == 0
    result = runner.invoke(args=["emulator", "fire-webhook", item_id, "DEFAULT_UPDATE",
                                 "--defect", "duplicate"])
    assert result.exit_code == 0 and len(json.loads(result.output)["outbox_ids"]) == 2
    result = runner.invoke(args=["emulator", "outbox", "--item-id", item_id])
    assert [r["webhook_code"] for r in json.loads(result.output)] == ["DEFAULT_UPDATE"] * 2
    result = runner.invoke(args=["emulator", "fault", "/item/get", "--code", "NOPE"])
    assert result.exit_code != 0
    result = runner.invoke(args=["emulator", "remove", "no-such-id"])
    assert result.exit_code != 0 and "unknown transaction_id" in result.output
