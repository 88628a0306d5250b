"""`flask plaid …` commands for operators and scripted checks."""
import click
from flask.cli import AppGroup
from sqlalchemy import select

from hostadmin.banking import connect
from hostadmin.banking.models import PlaidItem
from hostadmin.banking.plaid_client import get_client
from hostadmin.extensions import db
from hostadmin.ledger.models import Host
from hostadmin.params import parse_id

plaid_cli = AppGroup("plaid", help="Plaid connections and syncs.")


def item_by_id(item_id):
    """The item named by Plaid's item_id (or our numeric id); ClickException if unknown."""
    item = db.session.scalar(select(PlaidItem).where(PlaidItem.plaid_item_id == item_id))
    if item is None and parse_id(item_id) is not None:
        item = db.session.get(PlaidItem, parse_id(item_id))
    if item is None:
        raise click.ClickException(f"no Plaid item {item_id!r}")
    return item


@plaid_cli.command("sandbox-connect")
@click.option("--host", "host_slug", required=True, help="Slug of the host that connects the bank.")
@click.option("--institution", "institution_id", default="ins_109508", show_default=True)
def sandbox_connect(host_slug, institution_id):
    """Connect a sandbox (or emulator) bank as the Connect page would; print the new item_id last."""
    from hostadmin.banking.jobs import request_sync

    host = db.session.scalar(select(Host).where(Host.slug == host_slug))
    if host is None:
        raise click.ClickException(f"no host with slug {host_slug!r}")
    try:
        item = connect.sandbox_connect(host, get_client(), institution_id)
    except connect.AlreadyConnected as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Connected {item.display_name}: {len(item.accounts)} accounts")
    try:
        click.echo(f"First sync {request_sync(item, trigger='connect')}")
    except Exception as error:  # noqa: BLE001 (Redis down must not lose the new item)
        click.echo(f"First sync not queued ({error}); run: flask plaid sync {item.plaid_item_id}", err=True)
    click.echo(item.plaid_item_id)


@plaid_cli.command("sync")
@click.argument("item_id")
@click.option("--no-wait", is_flag=True,
              help="If a sync of this item is running, say so and exit 3 instead of waiting for it.")
def sync(item_id, no_wait):
    """Sync one item in the foreground (after any sync of it already running) and print the run's counts."""
    from hostadmin.banking.locks import SyncRunning
    from hostadmin.banking.sync import run_locked_sync

    def waiting(holder):
        click.echo(f"A sync of this item is running ({holder}); waiting for it to finish…", err=True)

    item = item_by_id(item_id)
    try:
        runs = run_locked_sync(item.id, trigger="cli", if_running="raise" if no_wait else "wait", on_wait=waiting)
    except SyncRunning as running:
        click.echo(f"A sync of this item is running ({running}); not waiting (--no-wait).", err=True)
        raise SystemExit(3) from None
    for run in runs:
        click.echo(f"run {run.id}: {run.outcome} pages={run.pages} added={run.added} modified={run.modified} "
                   f"removed={run.removed} duplicates={run.duplicates} invalid={run.invalid} "
                   f"restarts={run.restarts}" + (f" error={run.error_code}: {run.error}" if run.error else ""))
    if runs[-1].outcome != "SUCCEEDED":
        raise SystemExit(1)
