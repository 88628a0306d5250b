"""`flask processors …`: connect Stripe, Wise and PayPal to a host; the secrets are never printed."""
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
@_cleared_option("wise")
def configure_wise(host_slug, public_key, cleared_field):
    """Connect Wise: its webhooks are checked with Wise's RSA public key."""
    try:
        pem = public_key.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        refuse(f"cannot read the public key file {public_key}: {error}")
    _save(host_slug, "wise", material=pem, cleared_field=cleared_field)


@configure_cli.command("paypal")
@click.option("--host", "host_slug", required=True, help="The host's slug.")
@click.option("--webhook-id", required=True, help="The webhook's id in the PayPal app.")
@click.option("--sandbox", is_flag=True, help="The app is a PayPal sandbox app.")
@_cleared_option("paypal")
def configure_paypal(host_slug, webhook_id, sandbox, cleared_field):
    """Connect PayPal: its webhooks are checked offline with PayPal's certificate and the webhook id."""
    _save(host_slug, "paypal", material=webhook_id, sandbox=sandbox, cleared_field=cleared_field)
