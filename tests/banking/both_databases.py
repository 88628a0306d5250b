"""Fixtures for sync tests that run on SQLite and on PostgreSQL: import them into the test module."""
import pytest
from flask import current_app

from hostadmin.banking import connect
from hostadmin.banking.sync import sync_item
from hostadmin.extensions import db
from tests.factories import make_host


@pytest.fixture(params=["sqlite", "postgres"])
def sync_app(request, plaid):
    """The app on SQLite or PostgreSQL, with the real plaid-python client pointed at the emulator."""
    app = request.getfixturevalue("app" if request.param == "sqlite" else "pg_app")
    app.extensions["plaid"] = plaid.plaid_client()
    app.config.update(PLAID_HOST=plaid.url, SYNC_RETRY_BASE_SECONDS=0)
    return app


@pytest.fixture
def item(sync_app):
    host = make_host(slug="river", name="River Host")
    db.session.commit()
    return connect.sandbox_connect(host, sync_app.extensions["plaid"])


def sync(item):
    db.session.refresh(item)
    return sync_item(item, current_app.extensions["plaid"], trigger="test")
