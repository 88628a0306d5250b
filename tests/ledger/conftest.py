"""The money side's fixtures (any_app: SQLite then PostgreSQL; cli) for the ledger tests too."""
from tests.funds.conftest import any_app, cli  # noqa: F401
