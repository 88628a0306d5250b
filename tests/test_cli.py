"""Operator commands: hosts, users, demo."""
import pytest
from sqlalchemy import select

from hostadmin.auth.models import HostMember, User
from hostadmin.ledger.models import Host


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args, **kwargs: runner.invoke(args=list(args), **kwargs)


def test_hosts_create_and_duplicate_slug(cli, db):
    result = cli("hosts", "create", "river", "--name", "River Host", "--currency", "usd", "--host-fee", "8")
    assert result.exit_code == 0, result.output
    host = db.session.scalar(select(Host).where(Host.slug == "river"))
    assert (host.currency, host.host_fee_bps) == ("USD", 800)

    again = cli("hosts", "create", "river", "--name", "Again", "--currency", "USD")
    assert again.exit_code != 0 and "already exists" in again.output


@pytest.mark.parametrize("fee", ["８", "²", "1e1", "-1", "100.001", "101"])
def test_hosts_create_refuses_a_host_fee_that_is_not_a_plain_percentage(cli, db, fee):
    result = cli("hosts", "create", "river", "--name", "River Host", "--currency", "USD", "--host-fee", fee)
    assert result.exit_code != 0 and "--host-fee must be" in result.output
    assert db.session.scalar(select(Host)) is None


def test_users_create_with_password_option_and_prompt(cli, db):
    cli("hosts", "create", "river", "--name", "River Host", "--currency", "USD")
    result = cli("users", "create", "Ann@River.org", "--host", "river", "--role", "accountant",
                 "--password", "long enough pw")
    assert result.exit_code == 0, result.output
    prompted = cli("users", "create", "bob@river.org", "--host", "river", "--role", "ADMIN",
                   input="another long pw\nanother long pw\n")
    assert prompted.exit_code == 0, prompted.output
    roles = dict(db.session.execute(select(User.email, HostMember.role).join(HostMember)).all())
    assert roles == {"ann@river.org": "ACCOUNTANT", "bob@river.org": "ADMIN"}


@pytest.mark.parametrize("args,message", [
    (["--host", "nowhere", "--role", "ADMIN"], "no host with slug 'nowhere'"),
    (["--host", "river", "--role", "OWNER"], "Invalid value for '--role'"),
])
def test_users_create_errors_are_clear(cli, db, args, message):
    cli("hosts", "create", "river", "--name", "River Host", "--currency", "USD")
    result = cli("users", "create", "ann@river.org", *args, "--password", "long enough pw")
    assert result.exit_code != 0 and message in result.output


def test_duplicate_email_is_refused(cli, db):
    cli("hosts", "create", "river", "--name", "River Host", "--currency", "USD")
    cli("users", "create", "ann@river.org", "--host", "river", "--role", "ADMIN", "--password", "long enough pw")
    again = cli("users", "create", "ANN@river.org", "--host", "river", "--role", "ADMIN",
                "--password", "long enough pw")
    assert again.exit_code != 0 and "already exists" in again.output
