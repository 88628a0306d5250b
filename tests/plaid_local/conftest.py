"""Fixtures for the emulator's conformance suite: a served emulator and a plaid-python client."""
import pytest

from hostadmin.plaid_local.testing import EmulatorServer, MutableClock, WebhookReceiver


@pytest.fixture
def clock():
    """A clock the test moves by hand."""
    return MutableClock()


@pytest.fixture
def server(tmp_path, clock):
    """An emulator on an ephemeral port; webhooks wait for deliver_webhooks()."""
    with EmulatorServer(tmp_path / "plaid.sqlite3", webhook_delivery="manual",
                        clock=clock) as srv:
        yield srv


@pytest.fixture
def api(server):
    """A real plaid-python client pointed at the emulator."""
    return server.plaid_client()


@pytest.fixture
def receiver():
    """A webhook receiver that answers 200."""
    with WebhookReceiver() as rx:
        yield rx


@pytest.fixture
def item(server, api, receiver):
    """An Item linked through /sandbox/public_token/create with a webhook URL."""
    return server.link_item(webhook=receiver.url, client=api)
