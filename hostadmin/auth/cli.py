"""`flask users …` commands."""
import click
from flask.cli import AppGroup

from hostadmin.auth import service
from hostadmin.extensions import db
from hostadmin.ledger.accounts import ValidationError

users_cli = AppGroup("users", help="Manage users and their host memberships.")


@users_cli.command("create")
@click.argument("email")
@click.option("--host", "host_slug", required=True, help="Slug of the host the user belongs to.")
@click.option("--role", required=True, type=click.Choice(["ADMIN", "ACCOUNTANT"], case_sensitive=False))
@click.option("--name", default="", help="Display name.")
@click.password_option("--password", help="Password (prompted when omitted).")
def create_user(email, host_slug, role, name, password):
    """Create a user who is a member of a host."""
    try:
        user = service.create_user(email, password, host_slug, role, name=name)
    except ValidationError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"Created {user.email} ({role.upper()} of {host_slug})")
