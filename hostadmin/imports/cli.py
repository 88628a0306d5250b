"""`flask imports …` commands."""
import json
import os
import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from hostadmin import csvsafe
from hostadmin.banking.models import BankAccount
from hostadmin.extensions import db
from hostadmin.imports.models import ImportRow, TransactionsImport
from hostadmin.ledger.models import Host
from hostadmin.statements import service as statements
from hostadmin.statements.csv_reader import KEYS
from hostadmin.money import major_units

imports_cli = AppGroup("imports", help="Transactions imports and their rows.")
CSV_COLUMNS = ["source_id", "account_id", "date", "amount", "currency", "description", "merchant_name",
               "pending", "status", "removed", "note", "line"]


@imports_cli.command("rows")
@click.argument("item_id", required=False)
@click.option("--host", "host_slug", help="Slug of the host (with --import).")
@click.option("--import", "import_name", help="Name of the import (any source, with --host).")
@click.option("--format", "fmt", type=click.Choice(["csv"]), default="csv", show_default=True)
def rows(item_id, host_slug, import_name, fmt):
    """Write an import's rows as CSV (amount in major units, positive = money in): a Plaid item's by ITEM_ID,
    or any import's by --host and --import."""
    if item_id and (host_slug or import_name):
        raise click.UsageError("Give ITEM_ID, or --host and --import, not both.")
    if item_id:
        from hostadmin.banking.cli import item_by_id

        item = item_by_id(item_id)
        tx_import = db.session.scalar(select(TransactionsImport).where(TransactionsImport.plaid_item_id == item.id))
    elif host_slug and import_name:
        tx_import = db.session.scalar(select(TransactionsImport).where(
            TransactionsImport.host_id == host_of(host_slug).id, TransactionsImport.name == import_name))
        if tx_import is None:
            raise click.ClickException(f"host {host_slug!r} has no import called {import_name!r}")
    else:
        raise click.UsageError("Give ITEM_ID, or --host and --import.")
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
                         str(row.removed_at is not None).lower(), row.note or "",
                         "" if row.statement_line is None else row.statement_line])


@imports_cli.command("upload")
@click.option("--host", "host_slug", required=True, help="Slug of the host.")
@click.option("--import", "import_name", required=True, help="Name of the statement import (created if missing).")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--account", "account", help="Bank account label of a new import (default: its name).")
@click.option("--mapping", "mapping_file", type=click.Path(exists=True, dir_okay=False),
              help="MAPPING.json: the keys to use instead of detecting them.")
@click.option("--dry-run", is_flag=True, help="Read and count, write nothing.")
def upload(host_slug, import_name, file, account, mapping_file, dry_run):
    """Import a statement file's new lines; prints the mapping used (JSON), then the counts; exit 1 on an
    invalid line."""
    host = host_of(host_slug)
    given = None
    if mapping_file:
        try:
            with open(mapping_file, encoding="utf-8") as handle:
                given = json.load(handle)
        except (ValueError, OSError) as error:
            raise click.ClickException(f"{mapping_file} is not a JSON mapping ({error})") from None
        if not isinstance(given, dict):
            raise click.ClickException(f"{mapping_file} must hold a JSON object of mapping keys")
        unknown = sorted(set(given) - set(KEYS))
        if unknown:
            raise click.ClickException(f"unknown mapping keys: {', '.join(unknown)} (known: {', '.join(KEYS)})")
    with open(file, "rb") as handle:
        data = handle.read()
    try:
        imp = statements.find_or_create_import(host, None, import_name, account)
        result, _ = statements.upload(host, None, imp, data, os.path.basename(file), given, dry_run=dry_run,
                                      trigger="cli")
    except statements.StatementError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(json.dumps(result.mapping, ensure_ascii=False, indent=2))
    for problem in result.invalid[:1000]:
        click.echo(f"line {problem['line']}: {problem['error']}", err=True)
    click.echo(f"new {len(result.new_lines)}, already imported {result.already_imported}, "
               f"invalid {len(result.invalid)}, skipped {result.skipped}")
    if result.invalid:
        sys.exit(1)


def host_of(slug):
    """The host with this slug, or a clear error."""
    host = db.session.scalar(select(Host).where(Host.slug == slug))
    if host is None:
        raise click.ClickException(f"no host with slug {slug!r}")
    return host
