"""`flask --app hostadmin.plaid_local emulator …`: drive the emulator from a shell."""
import json

import click
from flask import current_app
from flask.cli import AppGroup

from . import firing
from .errors import PlaidAPIError
from .webhooks import DEFECTS

emulator_cli = AppGroup("emulator", help="Control the local Plaid emulator's state.")


def _em():
    em = current_app.extensions["plaid_local"]
    # A short-lived CLI process only queues webhooks; the running server delivers them.
    em.outbox.stop()
    return em


def _echo(data) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def _run(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except (PlaidAPIError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


@emulator_cli.command("items")
def list_items():
    """List Items with their tokens and state."""
    rows = _em().store.all("SELECT item_id, access_token, institution_name, webhook, ready, "
                           "error IS NOT NULL AS in_error, removed FROM items ORDER BY created_at")
    _echo([dict(r) for r in rows])


@emulator_cli.command("create-item")
@click.option("--institution", default="ins_109508")
@click.option("--webhook")
@click.option("--not-ready", is_flag=True, help="Sync answers NOT_READY until `ready`.")
@click.option("--username", default="user_good")
@click.option("--seed", type=int)
def create_item(institution, webhook, not_ready, username, seed):
    """Create an Item with accounts and history; prints its tokens."""
    em = _em()
    item_id = _run(em.create_item, institution, webhook=webhook, ready=not not_ready,
                   username=username, seed=seed)
    _echo({"item_id": item_id, "access_token": em.item(item_id)["access_token"],
           "public_token": em.issue_public_token(item_id)})


@emulator_cli.command("add-transactions")
@click.argument("item_id")
@click.option("--count", default=10, show_default=True)
@click.option("--account-id")
@click.option("--seed", type=int)
@click.option("--days", default=90, show_default=True)
def add_transactions(item_id, count, account_id, seed, days):
    """Add COUNT realistic transactions (debits, credits, pending and posted)."""
    _echo(_run(_em().add_transactions, item_id, count=count, account_id=account_id, seed=seed,
               days=days))


@emulator_cli.command("add-transaction")
@click.argument("item_id")
@click.option("--amount", type=float, required=True, help="Plaid sign: negative = money in.")
@click.option("--name", required=True)
@click.option("--date")
@click.option("--pending", is_flag=True)
@click.option("--account-id")
def add_transaction(item_id, amount, name, date, pending, account_id):
    """Add one specific transaction."""
    spec = {"amount": amount, "name": name, "date": date, "pending": pending}
    _echo(_run(_em().add_transactions, item_id, specs=[spec], account_id=account_id))


@emulator_cli.command("modify")
@click.argument("transaction_id")
@click.option("--amount", type=float)
@click.option("--name")
@click.option("--date")
def modify(transaction_id, amount, name, date):
    """Modify a transaction."""
    changes = {k: v for k, v in {"amount": amount, "name": name, "date": date}.items()
               if v is not None}
    _echo(_run(_em().modify_transaction, transaction_id, **changes))


@emulator_cli.command("remove")
@click.argument("transaction_ids", nargs=-1, required=True)
def remove(transaction_ids):
    """Remove transactions."""
    _run(_em().remove_transactions, list(transaction_ids))


@emulator_cli.command("post")
@click.argument("transaction_ids", nargs=-1, required=True)
@click.option("--amount", type=float)
def post(transaction_ids, amount):
    """Post pending transactions (removed pending + added posted)."""
    _echo(_run(_em().post_pending, list(transaction_ids), amount=amount))


@emulator_cli.command("new-account")
@click.argument("item_id")
def new_account(item_id):
    """Open a new account at the bank (NEW_ACCOUNTS_AVAILABLE)."""
    _echo({"account_id": _run(_em().add_account, item_id)})


@emulator_cli.command("share-accounts")
@click.argument("item_id")
@click.argument("account_ids", nargs=-1, required=True)
def share_accounts(item_id, account_ids):
    """Share new accounts with the app, as update-mode Link would."""
    _run(_em().share_accounts, item_id, list(account_ids))


@emulator_cli.command("ready")
@click.argument("item_id")
def ready(item_id):
    """Mark a not-ready Item's transactions ready."""
    _run(_em().set_ready, item_id, True)


@emulator_cli.command("force-mutation")
@click.argument("item_id")
def force_mutation(item_id):
    """Fail the next paginated sync read with the mutation error."""
    _run(_em().force_mutation, item_id)


@emulator_cli.command("reset-login")
@click.argument("item_id")
def reset_login(item_id):
    """Put the Item into ITEM_LOGIN_REQUIRED."""
    _run(_em().reset_login, item_id)


@emulator_cli.command("repair-login")
@click.argument("item_id")
def repair_login(item_id):
    """Repair the login (LOGIN_REPAIRED)."""
    _run(_em().repair_login, item_id)


@emulator_cli.command("fire-webhook")
@click.argument("item_id")
@click.argument("code")
@click.option("--defect", type=click.Choice(DEFECTS))
def fire_webhook(item_id, code, defect):
    """Fire a webhook (optionally stale, tampered, unknown kid, duplicated, out of order)."""
    _echo({"outbox_ids": _run(firing.fire, _em(), item_id, code, None, defect)})


@emulator_cli.command("rotate-key")
def rotate_key():
    """Rotate the webhook signing key."""
    _echo({"kid": _em().keys.rotate()})


@emulator_cli.command("busy-host")
@click.option("--total", default=100_000, show_default=True)
@click.option("--webhook")
@click.option("--seed", default=1)
def busy_host(total, webhook, seed):
    """Create an Item with TOTAL transactions over two years."""
    em = _em()
    item_id = em.busy_host(total, webhook=webhook, seed=seed)
    _echo({"item_id": item_id, "access_token": em.item(item_id)["access_token"]})


@emulator_cli.command("outbox")
@click.option("--item-id")
@click.option("--status")
def outbox(item_id, status):
    """Show queued and delivered webhooks."""
    rows = _em().outbox.rows(item_id, status)
    _echo([{k: r[k] for k in ("id", "item_id", "webhook_type", "webhook_code", "status",
                              "attempts", "last_status", "defect", "url")} for r in rows])


@emulator_cli.command("deliver")
@click.option("--force/--due-only", default=True)
def deliver(force):
    """Deliver webhooks now from this process."""
    _echo({"attempts": _em().outbox.deliver_due(force=force)})


@emulator_cli.command("fault")
@click.argument("endpoint")
@click.option("--kind", type=click.Choice(["error", "delay", "malformed"]), default="error")
@click.option("--code", "error_code", default="INTERNAL_SERVER_ERROR")
@click.option("--count", type=int, default=1, help="0 = until cleared.")
@click.option("--delay", type=float)
@click.option("--drop-key")
def fault(endpoint, kind, error_code, count, delay, drop_key):
    """Fail, delay or malform the next COUNT calls to ENDPOINT (e.g. /transactions/sync)."""
    _echo({"fault_id": _run(_em().faults.arm, endpoint, kind, error_code=error_code,
                            count=count or None, delay=delay, drop_key=drop_key)})


@emulator_cli.command("clear-faults")
def clear_faults():
    """Disarm every fault."""
    _em().faults.clear()
