"""Factory functions for domain objects (flush, not commit)."""
from itertools import count

from hostadmin.auth.models import Role
from hostadmin.auth.service import create_user
from hostadmin.ledger import accounts
from hostadmin.ledger.models import AccountKind

_serial = count(1)
PASSWORD = "correct horse battery"


def make_host(slug=None, name=None, currency="USD", host_fee_bps=0):
    n = next(_serial)
    return accounts.create_host(slug or f"host-{n}", name or f"Host {n}", currency, host_fee_bps=host_fee_bps)


def make_user(host, role=Role.ADMIN, email=None):
    n = next(_serial)
    return create_user(email or f"user{n}@example.org", PASSWORD, host.slug, role)


def make_collective(host, name=None):
    return accounts.create_account(host, AccountKind.COLLECTIVE, name or f"Collective {next(_serial)}")


def make_contributor(host, name=None):
    n = next(_serial)
    return accounts.create_account(host, AccountKind.CONTRIBUTOR, name or f"Contributor {n}",
                                   email=f"giver{n}@example.com")


def make_payee(host, name=None):
    return accounts.create_account(host, AccountKind.PAYEE, name or f"Payee {next(_serial)}")


# --------------------------------------------------------------------------- imports (triage)

def make_bank_account(host, name="Checking", mask=None, default_collective=None):
    """A Plaid item with one bank account (the access token is a placeholder, never used)."""
    from hostadmin.banking.models import BankAccount, PlaidItem
    from hostadmin.extensions import db

    n = next(_serial)
    item = PlaidItem(host_id=host.id, plaid_item_id=f"item-{n}", access_token_encrypted=b"unused",
                     institution_name="First Platypus Bank")
    db.session.add(item)
    db.session.flush()
    account = BankAccount(host_id=host.id, item_id=item.id, plaid_account_id=f"acc-{n}", name=name,
                          mask=mask or f"{n:04d}"[-4:], type="depository", currency=host.currency,
                          default_collective_id=default_collective.id if default_collective else None)
    db.session.add(account)
    db.session.flush()
    return account


def make_import(host, name=None, source="PLAID", bank_account=None):
    """A transactions import (of `bank_account`'s Plaid item when given)."""
    from hostadmin.extensions import db
    from hostadmin.imports.models import TransactionsImport

    imp = TransactionsImport(host_id=host.id, source=source, name=name or f"Import {next(_serial)}",
                             plaid_item_id=bank_account.item_id if bank_account else None,
                             csv_mapping={"account": name or "csv"} if source == "CSV" else None)
    db.session.add(imp)
    db.session.flush()
    return imp


def make_import_row(imp, amount=10000, date=None, description="Bank transfer", bank_account=None, **fields):
    """An import row (amount in minor units, positive = money in); `fields` override any column."""
    import datetime as dt

    from hostadmin.extensions import db
    from hostadmin.imports.models import ImportRow

    n = next(_serial)
    row = ImportRow(import_id=imp.id, host_id=imp.host_id, source_id=fields.pop("source_id", f"txn-{n}"),
                    date=date or dt.date(2026, 11, 10), amount=amount, currency=fields.pop("currency", "USD"),
                    description=description, bank_account_id=bank_account.id if bank_account else None,
                    **fields)
    db.session.add(row)
    db.session.flush()
    return row
