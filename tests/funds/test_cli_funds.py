"""`flask collectives|funds|ledger …`: the CLI twins of the money pages (stdout's last line, stderr, exit codes)."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import select, text

from hostadmin.extensions import db
from hostadmin.funds import periods
from hostadmin.ledger.models import Account, LedgerTransaction, Order
from hostadmin.ledger.service import balances
from tests.factories import make_host


def setup_river(cli, currency="USD", fee="8"):
    assert cli("hosts", "create", "river", "--name", "River Host", "--currency", currency,
               "--host-fee", fee).exit_code == 0
    for slug, name in [("rowers", "River Rowers"), ("choir", "Harbour Choir")]:
        result = cli("collectives", "create", "--host", "river", slug, "--name", name)
        assert result.exit_code == 0, result.output


def add(cli, *extra, amount="100.00", day="2026-11-03"):
    return cli("funds", "add", "--host", "river", "--collective", "rowers", "--amount", amount,
               "--cleared-on", day, "--description", "Cheque from the fair", *extra)


def last_line(result):
    return result.stdout.splitlines()[-1]


def test_collectives_create_refuses_a_name_already_used_in_any_case(app, cli):
    setup_river(cli)
    again = cli("collectives", "create", "--host", "river", "rowers-2", "--name", "river ROWERS")
    assert again.exit_code == 1 and "already has a collective named 'river ROWERS'" in again.stderr
    taken = cli("collectives", "create", "--host", "river", "rowers", "--name", "Other")
    assert taken.exit_code == 1 and "slug 'rowers' is already used" in taken.stderr
    assert db.session.scalar(select(Account.name).where(Account.slug == "choir")) == "Harbour Choir"


def test_funds_add_prints_the_new_contributions_id_last(app, cli):
    setup_river(cli)
    result = add(cli, "--contributor", "Ann Lee", "--processor-fee", "1.20", "--host-fee-percent", "5")

    assert result.exit_code == 0, result.output
    order = db.session.get(Order, int(last_line(result)))
    assert (order.amount, order.host_fee_bps, order.data, order.from_account.name) == (
        10000, 500, {"processor_fee": 120}, "Ann Lee")
    cleared = {r.cleared_at for r in db.session.scalars(select(LedgerTransaction))}
    assert cleared == {datetime(2026, 11, 3, tzinfo=timezone.utc)}
    assert balances(order.to_account.host)[order.to_account_id] == 10000 - 500 - 120


def test_funds_add_refusals_exit_1_with_the_reason_on_stderr(app, cli):
    setup_river(cli)
    periods.close_month(db.session.scalar(select(Account).where(Account.slug == "rowers")).host, None, "2026-10")
    for extra, kwargs, message in [
        ((), {"amount": "10.005"}, "--amount has too many decimals: USD amounts have at most 2 decimals"),
        ((), {"amount": "ten"}, "--amount must be a number"),
        ((), {"amount": "-5"}, "positive whole number"),
        ((), {"day": "2026-11-21"}, "cannot be in the future"),
        ((), {"day": "2026-10-31"}, "October 2026 is closed"),
        (("--processor-fee", "200"), {}, "larger than the amount"),
        (("--host-fee-percent", "101"), {}, "between 0 and 100"),
    ]:
        result = add(cli, *extra, **kwargs)
        assert result.exit_code == 1 and message in result.stderr, (extra, kwargs, result.output)
        assert result.stdout == ""
    assert db.session.scalar(select(Order.id)) is None


def test_balances_csv_in_major_units_by_effective_date_and_cldr_precision(app, cli):
    setup_river(cli)
    add(cli, amount="1250.00", day="2026-11-03")
    add(cli, amount="100.00", day="2026-11-04")

    result = cli("collectives", "balances", "--host", "river", "--at", "2026-11-03", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.stdout == "slug,name,balance,currency\nchoir,Harbour Choir,0.00,USD\nrowers,River Rowers,1150.00,USD\n"
    today = cli("collectives", "balances", "--host", "river", "--format", "csv")
    assert today.stdout.splitlines()[-1] == "rowers,River Rowers,1242.00,USD"


def test_balances_of_a_zero_decimal_currency_have_no_decimals(app, cli):
    setup_river(cli, currency="JPY", fee="0")
    assert add(cli, amount="1000").exit_code == 0
    assert add(cli, amount="1000.5").stderr.strip().endswith("JPY amounts have no decimals")
    result = cli("collectives", "balances", "--host", "river", "--format", "csv")
    assert result.stdout.splitlines()[-1] == "rowers,River Rowers,1000,JPY"


def test_funds_edit_prints_the_corrected_id_last_and_revert_refuses_it_afterwards(app, cli):
    setup_river(cli)
    original = int(last_line(add(cli)))

    edited = cli("funds", "edit", original, "--collective", "choir", "--amount", "90.00",
                 "--cleared-on", "2026-11-05", "--reason", "Was for the choir")
    assert edited.exit_code == 0, edited.output
    corrected = db.session.get(Order, int(last_line(edited)))
    assert (corrected.amount, corrected.to_account.slug, corrected.data["replaces_order_id"]) == (
        9000, "choir", original)

    refused = cli("funds", "revert", original, "--reason", "Bounced")
    assert refused.exit_code == 1 and f"was replaced by #{corrected.id}" in refused.stderr
    no_reason = cli("funds", "edit", corrected.id, "--amount", "1.00")
    assert no_reason.exit_code == 2 and "Missing option '--reason'" in no_reason.stderr

    reverted = cli("funds", "revert", corrected.id, "--reason", "Bounced")
    assert reverted.exit_code == 0 and last_line(reverted) == "1 reverted"
    again = cli("funds", "revert", corrected.id, "--reason", "Bounced")
    assert again.exit_code == 1 and "already reverted" in again.stderr
    assert cli("collectives", "balances", "--host", "river").stdout.splitlines()[1:] == [
        "choir,Harbour Choir,0.00,USD", "rowers,River Rowers,0.00,USD"]


def test_ledger_check_passes_on_a_sound_ledger(app, cli):
    setup_river(cli)
    add(cli)
    result = cli("ledger", "check")
    assert result.exit_code == 0 and last_line(result) == "Ledger OK: 4 rows in 1 group"


def test_ledger_check_names_each_group_that_breaks_an_invariant(app, cli, clock):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's triggers refuse these broken rows (tests/funds/test_cleared.py)")
    host = make_host(slug="river")
    db.session.commit()
    setup_collective = cli("collectives", "create", "--host", "river", "rowers", "--name", "River Rowers")
    assert setup_collective.exit_code == 0
    account = db.session.scalar(select(Account.id).where(Account.slug == "rowers"))
    periods.close_month(host, None, "2026-10")
    clock.advance(minutes=5)

    def raw(group, amount, cleared):
        # Past record_group on purpose (SQLite has no trigger): what a bug or a hand-written INSERT could do.
        db.session.execute(text(
            "INSERT INTO ledger_transactions (host_id, group_id, kind, type, account_id, counterparty_id,"
            " amount, currency, amount_in_host_currency, host_currency, description, is_refund, created_at,"
            " cleared_at) VALUES (:host, :group, 'ADDED_FUNDS', 'CREDIT', :account, :account, :amount, 'USD',"
            " :amount, 'USD', '', 0, :now, :cleared)"),
            {"host": host.id, "group": group, "account": account, "amount": amount, "now": clock.now,
             "cleared": cleared})
    raw("unbalanced", 100, clock.now)
    raw("no-date", 0, None)
    raw("two-dates", 5, clock.now)
    raw("two-dates", -5, datetime(2026, 11, 2, tzinfo=timezone.utc))
    raw("late", 7, datetime(2026, 10, 9, tzinfo=timezone.utc))
    raw("late", -7, datetime(2026, 10, 9, tzinfo=timezone.utc))
    db.session.commit()
    try:
        result = cli("ledger", "check")
        assert result.exit_code == 1
        assert result.stderr.splitlines() == [
            "group unbalanced: rows do not sum to zero",
            "group no-date: rows without cleared_at",
            "group two-dates: rows with different cleared_at",
            "group late: recorded in 2026-10 after the month was closed"]
    finally:
        db.session.execute(text("DELETE FROM ledger_transactions"))  # SQLite only: no trigger there
        db.session.commit()
