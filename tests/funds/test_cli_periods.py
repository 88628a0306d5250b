"""`flask periods close|reopen`: exit codes, messages, refusals on stderr."""
from hostadmin.extensions import db
from hostadmin.funds import periods
from tests.factories import make_host


def test_periods_close_and_reopen_from_the_command_line(app, cli):
    host = make_host(slug="river")
    db.session.commit()

    closed = cli("periods", "close", "--host", "river", "--month", "2026-10", "--reason", "Filed")
    assert closed.exit_code == 0, closed.output
    assert closed.stdout.splitlines()[-1] == "Closed October 2026 for river"
    assert periods.closed_months(host) == ["2026-10"]

    no_reason = cli("periods", "reopen", "--host", "river", "--month", "2026-10")
    assert no_reason.exit_code == 1 and "say why the month is reopened" in no_reason.stderr
    assert no_reason.stdout == ""

    reopened = cli("periods", "reopen", "--host", "river", "--month", "2026-10", "--reason", "Late cheque")
    assert reopened.exit_code == 0, reopened.output
    assert reopened.stdout.splitlines()[-1] == "Reopened October 2026 for river"
    assert periods.closed_months(host) == []


def test_periods_refusals_exit_non_zero_with_the_reason_on_stderr(app, cli):
    make_host(slug="river")
    db.session.commit()
    for args, message in [(["--host", "nowhere", "--month", "2026-10"], "no host with slug 'nowhere'"),
                          (["--host", "river", "--month", "10/2026"], "month must look like 2026-11"),
                          (["--host", "river", "--month", "2026-11"], "has not ended yet")]:
        result = cli("periods", "close", *args)
        assert result.exit_code == 1 and message in result.stderr, (args, result.output)


def test_a_host_is_created_with_its_time_zone_and_an_unknown_zone_is_refused(app, cli):
    from sqlalchemy import select

    from hostadmin.ledger.models import Host

    created = cli("hosts", "create", "berlin", "--name", "Berlin", "--currency", "EUR", "--timezone", "Europe/Berlin")
    assert created.exit_code == 0, created.output
    assert db.session.scalar(select(Host.timezone).where(Host.slug == "berlin")) == "Europe/Berlin"
    refused = cli("hosts", "create", "mars", "--name", "Mars", "--currency", "EUR", "--timezone", "Mars/Olympus")
    assert refused.exit_code == 1 and "unknown time zone 'Mars/Olympus'" in refused.stderr
