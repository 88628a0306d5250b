"""The emulated Link: script, page with stable ids, session → public token → exchange."""
import re

from plaid.model.accounts_get_request import AccountsGetRequest
from plaid.model.country_code import CountryCode
from plaid.model.item_get_request import ItemGetRequest
from plaid.model.item_public_token_exchange_request import ItemPublicTokenExchangeRequest
from plaid.model.link_token_create_request import LinkTokenCreateRequest
from plaid.model.link_token_create_request_update import LinkTokenCreateRequestUpdate
from plaid.model.link_token_create_request_user import LinkTokenCreateRequestUser
from plaid.model.products import Products


def link_token(api, **extra) -> str:
    return api.link_token_create(LinkTokenCreateRequest(
        client_name="Host Admin", language="en", country_codes=[CountryCode("US")],
        user=LinkTokenCreateRequestUser(client_user_id="host-1"), **extra)).link_token


def test_link_initialize_script_points_at_the_emulator(server):
    resp = server.app.test_client().get("/link/v2/stable/link-initialize.js")
    assert resp.status_code == 200 and resp.mimetype == "application/javascript"
    script = resp.get_data(as_text=True)
    assert "window.Plaid" in script and server.url in script
    assert "onSuccess" in script and "destroy" in script


def test_new_item_through_the_link_page(api, server, receiver):
    token = link_token(api, products=[Products("transactions")], webhook=receiver.url)
    http = server.app.test_client()
    page = http.get(f"/link/session?token={token}").get_data(as_text=True)
    for element in ('id="institution-ins_109508"', 'id="account-0"', 'id="connect"',
                    'id="exit"', "First Platypus Bank"):
        assert element in page
    done = http.post("/link/session/complete", json={
        "link_token": token, "institution_id": "ins_109508", "accounts": ["0", "2"]}).get_json()
    meta = done["metadata"]
    assert meta["institution"] == {"name": "First Platypus Bank", "institution_id": "ins_109508"}
    assert [(a["type"], a["subtype"]) for a in meta["accounts"]] == [
        ("depository", "checking"), ("credit", "credit card")]
    assert set(meta["accounts"][0]) >= {"id", "name", "mask", "type", "subtype"}
    assert meta["link_session_id"]
    exchanged = api.item_public_token_exchange(
        ItemPublicTokenExchangeRequest(public_token=done["public_token"]))
    accounts = api.accounts_get(AccountsGetRequest(access_token=exchanged.access_token)).accounts
    assert [a.account_id for a in accounts] == [a["id"] for a in meta["accounts"]]
    item = api.item_get(ItemGetRequest(access_token=exchanged.access_token)).item
    assert item.webhook == receiver.url


def test_update_mode_shares_new_accounts_and_repairs_login(api, item, server):
    new_account = server.new_account(item.item_id)
    server.reset_login(item.item_id)
    token = link_token(api, access_token=item.access_token,
                       update=LinkTokenCreateRequestUpdate(account_selection_enabled=True))
    http = server.app.test_client()
    page = http.get(f"/link/session?token={token}").get_data(as_text=True)
    assert f'id="account-{new_account}"' in page and 'id="relogin-note"' in page
    done = http.post("/link/session/complete", json={
        "link_token": token, "accounts": [new_account]}).get_json()
    assert new_account in [a["id"] for a in done["metadata"]["accounts"]]
    assert api.item_get(ItemGetRequest(access_token=item.access_token)).item.error is None
    accounts = api.accounts_get(AccountsGetRequest(access_token=item.access_token)).accounts
    assert new_account in [a.account_id for a in accounts]
    codes = [r["webhook_code"] for r in server.outbox(item.item_id)]
    assert "LOGIN_REPAIRED" not in codes  # the app repaired it itself, through Link


def test_invalid_link_token_page(server):
    resp = server.app.test_client().get("/link/session?token=link-sandbox-nope")
    assert resp.status_code == 400 and 'id="error"' in resp.get_data(as_text=True)


def test_account_selection_lets_a_shared_account_be_deselected(api, item, server):
    token = link_token(api, access_token=item.access_token,
                       update=LinkTokenCreateRequestUpdate(account_selection_enabled=True))
    http = server.app.test_client()
    before = api.accounts_get(AccountsGetRequest(access_token=item.access_token)).accounts
    page = http.get(f"/link/session?token={token}").get_data(as_text=True)
    assert not re.search(rf'id="account-{before[0].account_id}"[^>]*disabled', page)
    http.post("/link/session/complete", json={"link_token": token, "accounts": [],
                                              "deselected": [before[0].account_id]})
    after = api.accounts_get(AccountsGetRequest(access_token=item.access_token)).accounts
    assert [a.account_id for a in after] == [a.account_id for a in before[1:]]


def test_update_mode_without_account_selection_keeps_every_checkbox_disabled(api, item, server):
    server.new_account(item.item_id)
    token = link_token(api, access_token=item.access_token)
    page = server.app.test_client().get(f"/link/session?token={token}").get_data(as_text=True)
    boxes = re.findall(r'<input type="checkbox"[^>]*>', page, re.S)
    assert boxes and all("disabled" in box for box in boxes)
