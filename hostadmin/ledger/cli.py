"""`flask hosts …` commands."""
import click
from flask.cli import AppGroup

from hostadmin.extensions import db
from hostadmin.ledger.accounts import ValidationError, create_host

hosts_cli = AppGroup("hosts", help="Manage fiscal hosts.")


@hosts_cli.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="The host's display name.")
@click.option("--currency", required=True, help="Three-letter ISO currency code, e.g. USD.")
@click.option("--host-fee", "host_fee_percent", default="0", help="Host fee on contributions, in percent.")
@click.option("--timezone", default="UTC", help="IANA time zone of the host's months and dates, e.g. Europe/Berlin.")
def create(slug, name, currency, host_fee_percent, timezone):
    """Create a fiscal host."""
    try:
        fee_bps = _percent_to_bps(host_fee_percent)
        host = create_host(slug, name, currency.upper(), host_fee_bps=fee_bps, timezone=timezone)
    except ValidationError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"Created host {host.slug} ({host.name}, {host.currency})")


def _percent_to_bps(text):
    import re
    from decimal import Decimal
    # ASCII digits only: Decimal() also reads "８" and other Unicode digits.
    if not re.fullmatch(r"[0-9]{1,3}(?:\.[0-9]+)?", text.strip(), re.ASCII):
        raise ValidationError("--host-fee must be a number of percent, e.g. 8")
    value = Decimal(text.strip()) * 100
    if value != value.to_integral_value() or not 0 <= value <= 10000:
        raise ValidationError("--host-fee must be between 0 and 100 with at most two decimals")
    return int(value)
