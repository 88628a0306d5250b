"""`flask imports …` commands."""
import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from hostadmin import csvsafe
from hostadmin.banking.models import BankAccount
from hostadmin.extensions import db
from hostadmin.imports.models import ImportRow, TransactionsImport
from hostadmin.money import major_units

imports_cli = AppGroup("imports", help="Transactions imports and their rows.")
CSV_COLUMNS = ["source_id", "account_id", "date", "amount", "currency", "description", "merchant_name",
               "pending", "status", "removed", "note"]


@imports_cli.command("rows")
@click.argument("item_id")
@click.option("--format", "fmt", type=click.Choice(["csv"]), default="csv", show_default=True)
def rows(item_id, fmt):
    """Write an item's import rows as CSV (amount in major units, positive = money in)."""
    from hostadmin.banking.cli import item_by_id

    item = item_by_id(item_id)
    tx_import = db.session.scalar(select(TransactionsImport).where(TransactionsImport.plaid_item_id == item.id))
    writer = csvsafe.writer(sys.stdout, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    if tx_import is None:
        return
    query = (select(ImportRow, BankAccount.plaid_account_id)
             .outerjoin(BankAccount, BankAccount.id == ImportRow.bank_account_id)
             .where(ImportRow.import_id == tx_import.id).order_by(ImportRow.date, ImportRow.id))
    for row, plaid_account_id in db.session.execute(query.execution_options(yield_per=2000)):
        writer.writerow([row.source_id, plaid_account_id or "", row.date.isoformat(),
                         major_units(row.amount, row.currency), row.currency, row.description,
                         row.merchant_name or "", str(row.pending).lower(), row.status,
                         str(row.removed_at is not None).lower(), row.note or ""])
