"""`flask users …` commands."""
import click
from flask.cli import AppGroup
from sqlalchemy import select

from hostadmin.auth import service
from hostadmin.auth.models import User
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


def _user(email):
    user = db.session.scalar(select(User).where(User.email == (email or "").strip().lower()))
    if user is None:
        raise click.ClickException(f"no user with email {email}")
    return user


@users_cli.command("password")
@click.argument("email")
@click.password_option("--password", help="New password (prompted when omitted).")
def set_password(email, password):
    """Set a user's password; every session of theirs ends."""
    try:
        service.change_password(_user(email), password)
    except ValidationError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"Password changed for {email}; their sessions have ended")


@users_cli.command("deactivate")
@click.argument("email")
def deactivate(email):
    """Stop a user from signing in; every session of theirs ends."""
    service.deactivate(_user(email))
    db.session.commit()
    click.echo(f"Deactivated {email}; their sessions have ended")
