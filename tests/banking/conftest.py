"""Fixtures for the banking tests: a real Plaid emulator and the real plaid-python client."""
import pytest

from hostadmin.banking import connect
from hostadmin.plaid_local.testing import EmulatorServer
from tests.factories import make_host


@pytest.fixture
def plaid(tmp_path):
    """The local Plaid emulator, served over HTTP in a thread."""
    with EmulatorServer(tmp_path / "plaid.sqlite3") as server:
        yield server


@pytest.fixture
def plaid_client(app, plaid):
    """The real plaid-python client, pointed at the emulator, injected into the app."""
    client = plaid.plaid_client()
    app.extensions["plaid"] = client
    app.config.update(PLAID_HOST=plaid.url, SYNC_RETRY_BASE_SECONDS=0)
    return client


@pytest.fixture
def host(db):
    host = make_host(slug="river", name="River Host")
    db.session.commit()
    return host


@pytest.fixture
def item(app, host, plaid_client):
    """An item connected through the emulator, as the Connect flow stores it (no history yet)."""
    return connect.sandbox_connect(host, plaid_client)
