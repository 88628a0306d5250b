"""`flask demo …` commands."""
import click
from flask.cli import AppGroup

from hostadmin.demo import service
from hostadmin.extensions import db

demo_cli = AppGroup("demo", help="Demo data for trying hostadmin.")


@demo_cli.command("seed")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has a host.")
def seed(if_empty):
    """Create the demo host, users and history."""
    if if_empty and not service.database_is_empty():
        click.echo("Database already has data; demo seed skipped.")
        return
    try:
        service.seed_demo()
    except service.DemoError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    click.echo(f"Demo host created. Sign in as {service.DEMO_ADMIN_EMAIL} / {service.DEMO_PASSWORD}")
