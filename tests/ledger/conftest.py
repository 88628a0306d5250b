"""Fixtures for the ledger tests: any_app (SQLite, then PostgreSQL) and a `flask` runner bound to it."""
import pytest

from tests.funds.conftest import any_app  # noqa: F401


@pytest.fixture
def cli(any_app):  # noqa: F811
    """cli(*args) runs a `flask` command in the test's app (SQLite or PostgreSQL)."""
    runner = any_app.test_cli_runner()
    return lambda *args, **kwargs: runner.invoke(args=[str(a) for a in args], **kwargs)
