"""The monthly report service: hand-computed figures, effective dates, corrections, reconciliation."""
import pytest
from flask import current_app
from sqlalchemy import text

from hostadmin.extensions import db
from hostadmin.funds import periods, service
from hostadmin.ledger import service as ledger
from hostadmin.ledger.models import LedgerKind
from hostadmin.reports import monthly
from hostadmin.reports.monthly import CSV_HEADER, ReconciliationError
from tests.factories import make_contributor
from tests.reports.helpers import OCTOBER, add, october_world, utc


@pytest.fixture
def world(any_app):
    return october_world()


def test_october_matches_the_hand_computed_table_to_the_cent(world):
    host = world[0]
    report = monthly.build(host, "2026-10")

    assert list(report.csv_rows()) == [CSV_HEADER, *OCTOBER]
    assert (report.host_fee_income, report.processor_fees, report.notes) == (1200, 120, [])
    rowers = report.lines[1]
    assert (rowers.money_in["added_funds"], rowers.money_out["host_fees"], rowers.total_out) == (10000, 800, 3920)


def test_a_deposit_recorded_in_december_that_cleared_in_november_lands_in_november(world):
    host, user, rowers = world[:3]
    current_app.clock.now = utc(2026, 12, 3, 15)
    add(host, user, rowers, 7000, utc(2026, 11, 29, 12), host_fee_bps=0)

    november = {line.slug: line for line in monthly.build(host, "2026-11").lines}
    december = {line.slug: line for line in monthly.build(host, "2026-12").lines}
    assert november["rowers"].money_in["added_funds"] == 1000 + 7000
    assert december["rowers"].money_in["added_funds"] == 0
    assert december["rowers"].opening == november["rowers"].closing


def test_a_correction_after_the_month_closed_lands_in_the_month_it_was_recorded_with_a_note(world):
    host, user, rowers, choir, october = world
    periods.close_month(host, user, "2026-10")
    before = list(monthly.build(host, "2026-10").csv_rows())

    corrected = service.edit_funds(host, user, october.id, reason="Cheque was 90", amount=9000)

    assert list(monthly.build(host, "2026-10").csv_rows()) == before
    november = monthly.build(host, "2026-11")
    line = {line.slug: line for line in november.lines}["rowers"]
    assert line.net("corrections") == -(10000 - 800 - 120)
    assert line.money_in["added_funds"] == 1000 + 9000
    [note] = november.notes
    assert (note.collective, note.correction, note.corrects_month, note.amount) == ("rowers", "EDIT", "2026-10",
                                                                                    -9080)
    assert note.text == (f"Corrects contribution #{october.id} of 2026-10-02 (October 2026), "
                         f"replaced by contribution #{corrected.id}: Edit: Cheque was 90")


def test_an_empty_month_has_every_collective_at_its_balance_and_zero_movements(world):
    host = world[0]
    report = monthly.build(host, "2026-08")
    assert [row for row in report.csv_rows()][1:] == [
        ("choir", *["0.00"] * 8, "USD"), ("rowers", *["0.00"] * 8, "USD"), ("TOTAL", *["0.00"] * 8, "USD")]
    assert report.row_count == 0


def test_host_fees_that_never_reached_the_host_fail_the_reconciliation_loudly(world):
    host, _, rowers = world[:3]
    stranger = make_contributor(host, "Someone")
    # A balanced group (the ledger checks pass) whose "host fee" went to a contributor, not the host.
    ledger.record_group(host, [ledger.Entry(rowers, stranger, -500, LedgerKind.HOST_FEE),
                               ledger.Entry(stranger, rowers, 500, LedgerKind.HOST_FEE)],
                        currency="USD", cleared_at=utc(2026, 10, 25, 12), description="Misfiled fee")
    db.session.commit()
    with pytest.raises(ReconciliationError, match="does not reconcile:\nhost fee income 1200 differs from "
                                                  "the host fees the collectives paid 1700"):
        monthly.build(host, "2026-10")


def test_an_unbalanced_ledger_row_fails_the_reconciliation_loudly(app):
    host, _, rowers = october_world()[:3]
    if db.engine.dialect.name != "sqlite":
        pytest.skip("only SQLite lets a test write (and then remove) a row that breaks double entry")
    connection = db.session.connection()
    connection.execute(text(
        "INSERT INTO ledger_transactions (host_id, group_id, kind, type, account_id, counterparty_id, amount, "
        "currency, amount_in_host_currency, host_currency, description, is_refund, created_at, cleared_at) "
        "VALUES (:host, 'broken', 'ADDED_FUNDS', 'CREDIT', :account, :account, 700, 'USD', 700, 'USD', '', 0, "
        ":at, :at)"), {"host": host.id, "account": rowers.id, "at": utc(2026, 10, 5, 12)})
    try:
        with pytest.raises(ReconciliationError, match="the month's ledger rows sum to 700, not 0"):
            monthly.build(host, "2026-10")
    finally:
        connection.execute(text("DELETE FROM ledger_transactions WHERE group_id = 'broken'"))
        db.session.commit()
