"""Cleared-date rules and closed months: every path refuses a date inside a closed month."""
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from hostadmin.audit.models import AuditEntry
from hostadmin.extensions import db
from hostadmin.funds import cleared, periods
from hostadmin.funds.cleared import ClearedDateError
from hostadmin.imports import service as triage
from hostadmin.ledger import accounts, service as ledger
from hostadmin.ledger.models import LedgerTransaction
from tests.factories import (
    make_collective, make_contributor, make_host, make_import, make_import_row, make_user,
)

OCT_3 = datetime(2026, 10, 3, tzinfo=timezone.utc)


def pending_order(host, amount=5000):
    return accounts.create_order(host, contributor=make_contributor(host), collective=make_collective(host),
                                 amount=amount)


def test_a_group_without_cleared_at_is_refused(any_app):
    host = make_host()
    with pytest.raises(ClearedDateError, match="needs the date the money cleared"):
        ledger.record_order_paid(pending_order(host), cleared_at=None)
    assert db.session.scalar(select(func.count()).select_from(LedgerTransaction)) == 0


def test_nothing_can_be_recorded_in_a_closed_month_and_reopening_allows_it_again(any_app):
    host = make_host()
    user = make_user(host)
    order = pending_order(host)
    db.session.commit()
    periods.close_month(host, user, "2026-10", reason="Books sent to the accountant")

    with pytest.raises(ClearedDateError, match="October 2026 is closed"):
        ledger.record_order_paid(order, cleared_at=OCT_3)
    db.session.rollback()
    ledger.record_order_paid(order, cleared_at=datetime(2026, 11, 1, tzinfo=timezone.utc))  # next month: open
    db.session.commit()

    with pytest.raises(ClearedDateError, match="say why"):
        periods.reopen_month(host, user, "2026-10", "  ")
    periods.reopen_month(host, user, "2026-10", "Late cheque found")
    rows = ledger.record_order_paid(pending_order(host), cleared_at=OCT_3)
    db.session.commit()
    assert {r.cleared_at for r in rows} == {OCT_3}
    actions = db.session.execute(select(AuditEntry.action, AuditEntry.data).order_by(AuditEntry.id)).all()
    assert actions == [("period.close", {"reason": "Books sent to the accountant"}),
                       ("period.reopen", {"reason": "Late cheque found"})]


def test_months_are_in_the_hosts_time_zone(any_app):
    host = make_host()
    host.timezone = "America/New_York"
    db.session.commit()
    periods.close_month(host, None, "2026-10")

    # 02:00 UTC on 1 November is still 31 October in New York: refused.
    with pytest.raises(ClearedDateError, match="October 2026 is closed"):
        ledger.record_order_paid(pending_order(host), cleared_at=datetime(2026, 11, 1, 2, tzinfo=timezone.utc))
    db.session.rollback()
    rows = ledger.record_order_paid(pending_order(host), cleared_at=datetime(2026, 11, 1, 5, tzinfo=timezone.utc))
    assert len(rows) == 2
    db.session.commit()


def test_a_typed_date_may_be_back_dated_but_not_in_the_future_of_the_hosts_today(app, clock):
    host = make_host()  # the clock says 2026-11-20 15:30 UTC
    assert cleared.cleared_at_for_day(host, date(2026, 9, 1)) == datetime(2026, 9, 1, tzinfo=timezone.utc)
    with pytest.raises(ClearedDateError, match="cannot be in the future"):
        cleared.cleared_at_for_day(host, date(2026, 11, 21))
    host.timezone = "Pacific/Kiritimati"  # UTC+14: already 21 November there
    assert cleared.cleared_at_for_day(host, date(2026, 11, 21)) == datetime(2026, 11, 20, 10, tzinfo=timezone.utc)


def test_a_reversal_is_dated_like_the_original_unless_its_month_is_closed(any_app, clock):
    host = make_host()
    open_rows = ledger.record_order_paid(pending_order(host), cleared_at=datetime(2026, 11, 2, tzinfo=timezone.utc))
    closed_rows = ledger.record_order_paid(pending_order(host), cleared_at=OCT_3)
    db.session.commit()
    periods.close_month(host, None, "2026-10")

    same_month = ledger.reverse_group(host, open_rows[0].group_id, reason="Wrong collective")
    today = ledger.reverse_group(host, closed_rows[0].group_id, reason="Bounced cheque")
    db.session.commit()

    assert {r.cleared_at for r in same_month} == {datetime(2026, 11, 2, tzinfo=timezone.utc)}
    assert {r.cleared_at for r in today} == {datetime(2026, 11, 20, tzinfo=timezone.utc)}


def test_triage_cannot_link_a_bank_line_dated_in_a_closed_month(any_app):
    host = make_host()
    user = make_user(host)
    collective = make_collective(host)
    row = make_import_row(make_import(host), amount=2500, date=date(2026, 10, 30))
    db.session.commit()
    periods.close_month(host, user, "2026-10")

    with pytest.raises(triage.TriageError, match="October 2026 is closed"):
        triage.add_funds(host, user, row, collective=collective, new_contributor={"name": "Ann"})
    db.session.refresh(row)
    assert row.status == "PENDING" and row.ledger_group_id is None


def test_only_ended_months_can_be_closed_and_only_once(app):
    host = make_host()
    db.session.commit()
    with pytest.raises(ClearedDateError, match="has not ended yet"):
        periods.close_month(host, None, "2026-11")
    with pytest.raises(ClearedDateError, match="must look like 2026-11"):
        periods.close_month(host, None, "2026-13")
    periods.close_month(host, None, "2026-10")
    with pytest.raises(ClearedDateError, match="already closed"):
        periods.close_month(host, None, "2026-10")
    with pytest.raises(ClearedDateError, match="September 2026 is not closed"):
        periods.reopen_month(host, None, "2026-09", "typo")
    assert periods.closed_months(host) == ["2026-10"]


def test_postgresql_refuses_an_insert_into_a_closed_month_or_without_cleared_at(pg_app):
    host = make_host()
    host.timezone = "Europe/Berlin"
    order = pending_order(host)
    rows = ledger.record_order_paid(order, cleared_at=datetime(2026, 11, 2, tzinfo=timezone.utc))
    db.session.commit()
    periods.close_month(host, None, "2026-10")

    def insert_copy(cleared_sql):
        # Straight SQL, past every check in the app: only the trigger stands in the way.
        db.session.execute(text(
            "INSERT INTO ledger_transactions (host_id, group_id, kind, type, account_id, counterparty_id,"
            " amount, currency, amount_in_host_currency, host_currency, description, is_refund,"
            " created_at, cleared_at) SELECT host_id, 'raw', kind, type, account_id, counterparty_id, amount,"
            f" currency, amount_in_host_currency, host_currency, '', false, now(), {cleared_sql}"
            " FROM ledger_transactions WHERE id = :id"), {"id": rows[0].id})

    # 22:30 UTC on 31 October is 23:30 in Berlin (October, closed); 23:30 UTC is already November.
    with pytest.raises(DBAPIError, match="closed month 2026-10"):
        insert_copy("timestamptz '2026-10-31 22:30:00+00'")
    db.session.rollback()
    with pytest.raises(DBAPIError, match="cleared_at cannot be NULL"):
        insert_copy("NULL")
    db.session.rollback()
    db.session.begin()
    insert_copy("timestamptz '2026-10-31 23:30:00+00'")
    db.session.rollback()


def test_the_first_and_last_days_a_filter_can_name_are_bounds_not_errors(db, client, login_as):
    host = accounts.create_host("tokyo", "Tokyo", "JPY", timezone="Asia/Tokyo")
    admin = make_user(host)
    db.session.commit()
    assert cleared.start_of_day(host, date.min) == datetime.min.replace(tzinfo=timezone.utc)
    assert cleared.end_of_day(host, date.max) == datetime.max.replace(tzinfo=timezone.utc)
    login_as(admin)
    for path in ("/h/tokyo/funds/revert", "/h/tokyo/ledger/", "/h/tokyo/contributions/", "/h/tokyo/expenses/"):
        response = client.get(path, query_string={"from": "0001-01-01", "to": "9999-12-31"})
        assert response.status_code == 200, path  # was a 500 on the batch-revert list (found by the fuzz test)
