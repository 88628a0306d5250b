"""Webhook test fixtures: the Plaid emulator (its keys sign, its API serves them) and a sender."""
import json

import pytest

from hostadmin.banking.crypto import encrypt_token
from hostadmin.banking.models import PlaidItem
from hostadmin.extensions import db as _db
from hostadmin.plaid_local.signing import webhook_body
from hostadmin.plaid_local.testing import EmulatorServer
from tests.factories import make_host


@pytest.fixture
def plaid(app, tmp_path):
    """The emulator on loopback, on the app's frozen clock, as the app's Plaid (manual webhook delivery)."""
    with EmulatorServer(tmp_path / "plaid.sqlite3", clock=app.clock, webhook_delivery="manual") as server:
        app.extensions["plaid"] = server.plaid_client()
        app.extensions.pop("webhook_keys", None)
        yield server
    app.extensions.pop("plaid", None)


class Sender:
    """Posts webhooks to the app the way Plaid does: exact bytes, ES256 JWT in Plaid-Verification."""

    def __init__(self, client, plaid):
        self.client, self.plaid = client, plaid

    @property
    def keys(self):
        return self.plaid.emulator.keys

    def body(self, code="SYNC_UPDATES_AVAILABLE", item_id="item-1", webhook_type=None, **fields):
        payload = {"webhook_type": webhook_type or ("ITEM" if code not in TRANSACTIONS_CODES else "TRANSACTIONS"),
                   "webhook_code": code, "item_id": item_id, "environment": "sandbox", **fields}
        return webhook_body(payload)

    def post(self, body, token=None, headers=None, address="127.0.0.1"):
        sent = {"Content-Type": "application/json", **(headers or {})}
        if token is not None:
            sent["Plaid-Verification"] = token
        return self.client.post("/webhooks/plaid", data=body, headers=sent,
                                environ_overrides={"REMOTE_ADDR": address})

    def send(self, code="SYNC_UPDATES_AVAILABLE", item_id="item-1", address="127.0.0.1", **fields):
        body = self.body(code, item_id, **fields)
        return self.post(body, self.keys.sign(body), address=address)


TRANSACTIONS_CODES = {"SYNC_UPDATES_AVAILABLE", "DEFAULT_UPDATE", "INITIAL_UPDATE", "HISTORICAL_UPDATE",
                      "TRANSACTIONS_REMOVED"}


@pytest.fixture
def sender(client, plaid):
    return Sender(client, plaid)


@pytest.fixture
def host(app):
    host = make_host(slug="river", name="River Host")
    _db.session.commit()
    return host


def make_item(host, plaid_item_id="item-1", institution_name="First Platypus Bank", **fields):
    """A PlaidItem row as the connect flow stores it (flushed)."""
    item = PlaidItem(host_id=host.id, plaid_item_id=plaid_item_id,
                     access_token_encrypted=encrypt_token(f"access-sandbox-{plaid_item_id}"),
                     institution_id="ins_109508", institution_name=institution_name, **fields)
    _db.session.add(item)
    _db.session.flush()
    return item


def as_json(response):
    return json.loads(response.get_data(as_text=True))
