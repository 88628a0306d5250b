"""`flask processors …`: connect Stripe, Wise and PayPal to a host; the secrets are never printed."""
import json
from pathlib import Path

import click
from flask.cli import AppGroup

from hostadmin.extensions import db
from hostadmin.funds.cli import host_of, refuse
from hostadmin.processors import connections
from hostadmin.processors.connections import ConfigError

processors_cli = AppGroup("processors", help="Payment processors: Stripe, Wise and PayPal.")
configure_cli = AppGroup("configure", help="Connect a processor to a host (replaces an earlier connection).")
processors_cli.add_command(configure_cli)


def _cleared_option(processor):
    fields = [name for name, _ in connections.cleared_choices(processor)]
    meanings = "; ".join(f"{name}: {meaning}" for name, meaning in connections.cleared_choices(processor))
    return click.option("--cleared-at", "cleared_field", type=click.Choice(fields), default=None,
                        help=f"Which timestamp becomes the ledger's cleared date ({meanings}). "
                             f"Default: the current choice, else {fields[0]}.")


def _save(host_slug, processor, **values):
    host = host_of(host_slug)
    try:
        connection = connections.configure(host, processor, **values)
    except ConfigError as error:
        db.session.rollback()
        refuse(error)
    click.echo(f"{processor} connected to host {host.slug}; cleared_at from {connection.cleared_field}")
    click.echo(f"webhook URL: {connections.webhook_url(host, processor)}")


@configure_cli.command("stripe")
@click.option("--host", "host_slug", required=True, help="The host's slug.")
@click.option("--webhook-secret", required=True, help="The endpoint's signing secret (whsec_…).")
@click.option("--api-key", default=None, help="A restricted key that can read balance transactions (fees).")
@_cleared_option("stripe")
def configure_stripe(host_slug, webhook_secret, api_key, cleared_field):
    """Connect Stripe: its webhooks are checked with the endpoint's signing secret."""
    _save(host_slug, "stripe", material=webhook_secret, api_key=api_key, cleared_field=cleared_field)


@configure_cli.command("wise")
@click.option("--host", "host_slug", required=True, help="The host's slug.")
@click.option("--public-key", "public_key", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Wise's webhook public key for the environment (a PEM file).")
@click.option("--api-token", default=None,
              help="A read-only API token: a transfer no expense records is looked up by its reference.")
@click.option("--sandbox", is_flag=True, help="Wise's sandbox (api.sandbox.transferwise.tech).")
@_cleared_option("wise")
def configure_wise(host_slug, public_key, api_token, sandbox, cleared_field):
    """Connect Wise: its webhooks are checked with Wise's RSA public key."""
    try:
        pem = public_key.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        refuse(f"cannot read the public key file {public_key}: {error}")
    _save(host_slug, "wise", material=pem, api_key=api_token, sandbox=sandbox, cleared_field=cleared_field)


@configure_cli.command("paypal")
@click.option("--host", "host_slug", required=True, help="The host's slug.")
@click.option("--webhook-id", required=True, help="The webhook's id in the PayPal app.")
@click.option("--sandbox", is_flag=True, help="The app is a PayPal sandbox app.")
@_cleared_option("paypal")
def configure_paypal(host_slug, webhook_id, sandbox, cleared_field):
    """Connect PayPal: its webhooks are checked offline with PayPal's certificate and the webhook id."""
    _save(host_slug, "paypal", material=webhook_id, sandbox=sandbox, cleared_field=cleared_field)


@processors_cli.command("demo-credentials")
@click.option("--host", "host_slug", required=True, help="The host's slug.")
def demo_credentials_command(host_slug):
    """Connect Stripe, Wise and PayPal to a demo host with fresh test credentials (for `processors simulate`)."""
    from hostadmin.processors import simulate, simulate_paypal
    host = host_of(host_slug)
    path = simulate.demo_credentials(host)
    paypal = simulate_paypal.demo_credentials(host)
    click.echo(f"stripe, wise and paypal connected to host {host_slug} with test credentials "
               f"(Wise demo key: {path}; PayPal demo roots: {paypal['roots']})")


@processors_cli.command("simulate")
@click.argument("processor", type=click.Choice(["stripe", "wise", "paypal"]))
@click.argument("event")
@click.option("--host", "host_slug", required=True, help="The host's slug.")
@click.option("--amount", default="10.00", show_default=True,
              help="Stripe, PayPal: the charge, capture or refund, in the host currency.")
@click.option("--collective", default=None,
              help="Stripe, PayPal: the collective's slug (metadata.collective, custom_id).")
@click.option("--expense", "expense_id", type=click.IntRange(1, 2**62), default=None,
              help="Wise: the expense whose Wise transfer changes state; PayPal: the expense a payout item pays.")
@click.option("--ref", default=None, help="Stripe: the charge a refund refunds (ch_…); PayPal: the capture (CAP-…).")
def simulate_command(processor, event, host_slug, amount, collective, expense_id, ref):
    """Sign EVENT as the processor would and post it to the running app (PUBLIC_BASE_URL)."""
    from hostadmin.funds.cli import parse_amount
    from hostadmin.ledger.models import Expense
    from hostadmin.processors import simulate

    host = host_of(host_slug)
    try:
        if processor == "paypal":
            return _simulate_paypal(host, event, amount, collective, expense_id, ref)
        if processor == "stripe":
            minor = parse_amount(amount, host.currency, "--amount")
            if minor <= 0:
                refuse("--amount must be more than zero")
            body, headers = simulate.stripe_request(host, event, amount=minor, collective=collective, ref=ref)
        else:
            expense = db.session.get(Expense, expense_id) if expense_id else None
            if expense is None or expense.host_id != host.id:
                refuse("--expense must name one of the host's expenses")
            if not expense.wise_transfer_id:
                refuse(f"expense #{expense.id} has no Wise transfer id: match it on the Processors page first")
            body, headers = simulate.wise_request(host, event, transfer_id=expense.wise_transfer_id)
        status, answer, _ = simulate.post(processor, host, body, headers)
    except simulate.SimulateError as error:
        refuse(error)
    click.echo(f"{processor} {event}: HTTP {status} {answer.strip()}")
    if status >= 300:
        raise SystemExit(1)
    if processor == "stripe":
        click.echo(f"charge {json.loads(body)['data']['object']['id']}")


def _simulate_paypal(host, event, amount, collective, expense_id, ref):
    """PayPal signs with a certificate the app fetches: serve the demo one while the event is posted."""
    from hostadmin.funds.cli import parse_amount
    from hostadmin.processors import simulate, simulate_paypal

    minor = parse_amount(amount, host.currency, "--amount")
    if minor <= 0:
        refuse("--amount must be more than zero")
    try:
        simulate_paypal.connected(host)
        with simulate_paypal.serving_certificate() as cert_url:
            body, headers = simulate_paypal.request(host, event, amount=minor, collective=collective,
                                                    capture_id=ref, expense_id=expense_id, cert_url=cert_url)
            status, answer, _ = simulate.post("paypal", host, body, headers)
    except (simulate_paypal.SimulateError, simulate.SimulateError) as error:
        refuse(error)
    click.echo(f"paypal {event}: HTTP {status} {answer.strip()}")
    if status >= 300:
        raise SystemExit(1)
    resource = json.loads(body)["resource"]
    if "id" in resource and event == "PAYMENT.CAPTURE.COMPLETED":
        click.echo(f"capture {resource['id']}")


@processors_cli.command("backfill-cleared-at")
@click.option("--host", "host_slug", required=True, help="The host's slug.")
@click.option("--dry-run", is_flag=True, help="Say what would be set; write nothing.")
def backfill_command(host_slug, dry_run):
    """Fill missing cleared_at of processor payments from their raw timestamps (the host's current choice)."""
    from hostadmin.processors.backfill import backfill
    host = host_of(host_slug)
    try:
        result = backfill(host, dry_run=dry_run)
    except Exception as error:  # the trigger's or the guard's refusal: nothing was written
        refuse(f"back-fill refused, nothing written: {str(error).splitlines()[0]}")
    for line in result.lines():
        click.echo(line)
