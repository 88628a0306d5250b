"""`flask reports monthly` and `flask ledger export`: the same services as the pages, to a file.

Refusals exit 1 with the reason on stderr and write nothing; a report that does not reconcile is a refusal.
"""
import click
from flask.cli import AppGroup

from hostadmin.funds.cli import DATE, host_of, ledger_cli, refuse
from hostadmin.ledger.service import LedgerError
from hostadmin.reports import exports, files, monthly

reports_cli = AppGroup("reports", help="Monthly reports.")


@reports_cli.command("monthly")
@click.option("--host", "host_slug", required=True)
@click.option("--month", required=True, help="YYYY-MM in the host's time zone.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True), help="The CSV file to write.")
def monthly_command(host_slug, month, out):
    """Write the month's report: one row per collective, then TOTAL (plain decimals, major units)."""
    host = host_of(host_slug)
    try:
        report = monthly.build(host, month)
    except LedgerError as error:  # a bad month, or figures that do not reconcile
        refuse(error)
    count, _ = files.write_to(out, "csv", report.csv_rows())
    click.echo(f"{report.month}: {count - 1} collectives and TOTAL written to {out}")


@ledger_cli.command("export")
@click.option("--host", "host_slug", required=True)
@click.option("--from", "start", required=True, type=DATE, help="First day (YYYY-MM-DD, host time zone).")
@click.option("--to", "end", required=True, type=DATE, help="Last day, inclusive.")
@click.option("--by", type=click.Choice(exports.BY), default="effective", show_default=True,
              help="Which date picks the rows: when the money cleared, or when the row was recorded.")
@click.option("--columns", default=",".join(exports.DEFAULT_COLUMNS), show_default=True,
              help=f"Comma-separated, from: {','.join(exports.ALL_COLUMNS)}.")
@click.option("--format", "fmt", type=click.Choice(files.FORMATS), default="csv", show_default=True)
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True), help="The file to write.")
def export_command(host_slug, start, end, by, columns, fmt, out):
    """Write the host's ledger rows of a date range, one line per row, amounts signed (credit positive)."""
    host = host_of(host_slug)
    try:
        wanted = exports.LedgerRange(start.date(), end.date(), by,
                                     tuple(c.strip() for c in columns.split(",") if c.strip()))
    except exports.ExportError as error:
        refuse(error)
    count, _ = exports.write(host, wanted, fmt, out)
    click.echo(f"{count} ledger rows written to {out}")
