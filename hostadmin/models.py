"""Imports every feature's models so the metadata (and Alembic) sees all tables."""
from hostadmin.audit.models import AuditEntry  # noqa: F401
from hostadmin.auth.models import HostMember, User  # noqa: F401
from hostadmin.banking.models import BankAccount, LinkTokenGrant, PlaidItem  # noqa: F401
from hostadmin.imports.models import ImportRow, ImportRun, TransactionsImport  # noqa: F401
from hostadmin.ledger.models import Account, Expense, Host, LedgerTransaction, Order  # noqa: F401
from hostadmin.webhooks.models import WebhookEvent  # noqa: F401
from hostadmin.funds.models import ClosedPeriod  # noqa: F401
from hostadmin.reports.models import ReportExport  # noqa: F401
from hostadmin.processors.models import ProcessorConnection, ProcessorEvent, ProcessorPayment  # noqa: F401
