"""Contributions and expenses services: every path and refusal, on SQLite and PostgreSQL."""
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from hostadmin.audit.models import AuditEntry
from hostadmin.extensions import db
from hostadmin.funds import cleared, contributions, expenses, periods, records
from hostadmin.funds.records import Filters, RecordError
from hostadmin.imports import service as triage
from hostadmin.ledger.models import Account, LedgerTransaction, Order
from hostadmin.ledger.service import balances
from tests.factories import make_collective, make_host, make_import, make_import_row, make_user

NOV_3 = datetime(2026, 11, 3, tzinfo=timezone.utc)


@pytest.fixture
def river(any_app):
    host = make_host(slug="river", host_fee_bps=500)
    rowers = make_collective(host, "River Rowers")
    admin = make_user(host)
    db.session.commit()
    return host, rowers, admin


def ledger_rows():
    return db.session.scalars(select(LedgerTransaction).order_by(LedgerTransaction.id)).all()


# --------------------------------------------------------------------------- contributions

def test_expected_contribution_is_pending_with_no_ledger_rows_and_reuses_a_contributor_in_any_case(river):
    host, rowers, admin = river
    first = contributions.create_expected(host, admin, collective=rowers, amount=10000,
                                          contributor_name="Ann Lee", description="Pledge")
    second = contributions.create_expected(host, admin, collective=rowers, amount=500, contributor_name="ann LEE")
    anonymous = contributions.create_expected(host, admin, collective=rowers, amount=700)

    assert (first.status, first.kind, first.amount) == ("PENDING", "CONTRIBUTION", 10000)
    assert first.from_account_id == second.from_account_id and anonymous.from_account.name == "Anonymous"
    assert ledger_rows() == []
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "contribution.create")) == 3


def test_mark_received_writes_the_group_with_the_date_the_money_cleared(river):
    host, rowers, admin = river
    order = contributions.create_expected(host, admin, collective=rowers, amount=10000, contributor_name="Ann")

    contributions.mark_received(host, admin, order.id, cleared_at=cleared.cleared_at_for_day(host, date(2026, 11, 3)))

    db.session.expire_all()
    order = db.session.get(Order, order.id)
    rows = ledger_rows()
    assert order.status == "PAID" and order.paid_at == NOV_3
    assert {r.cleared_at for r in rows} == {NOV_3} and len(rows) == 4  # contribution + host fee pairs
    assert {r.order_id for r in rows} == {order.id} and order.data["group_id"] == rows[0].group_id
    assert balances(host)[rowers.id] == 9500


def test_mark_received_refuses_a_received_contribution_a_closed_month_and_another_hosts(river):
    host, rowers, admin = river
    other = make_host(slug="lake")
    lake_fund = make_collective(other, "Lake Fund")
    db.session.commit()
    theirs = contributions.create_expected(other, None, collective=lake_fund, amount=100)
    order = contributions.create_expected(host, admin, collective=rowers, amount=10000)
    periods.close_month(host, admin, "2026-10")

    with pytest.raises(RecordError, match="October 2026 is closed"):
        contributions.mark_received(host, admin, order.id, cleared_at=datetime(2026, 10, 30, tzinfo=timezone.utc))
    with pytest.raises(RecordError, match=f"no contribution #{theirs.id} on host river"):
        contributions.mark_received(host, admin, theirs.id, cleared_at=NOV_3)
    contributions.mark_received(host, admin, order.id, cleared_at=NOV_3)
    with pytest.raises(RecordError, match="is received, not expected"):
        contributions.mark_received(host, admin, order.id, cleared_at=NOV_3)
    assert len(ledger_rows()) == 4


@pytest.mark.parametrize("kwargs,message", [
    ({"amount": 0}, "positive whole number"),
    ({"amount": -5}, "positive whole number"),
    ({"collective": "payee"}, "choose one of the host's collectives"),
    ({"contributor_name": "\x00\x01 "}, None),  # control characters only: the Anonymous contributor
])
def test_create_expected_refusals_write_nothing(river, kwargs, message):
    host, rowers, admin = river
    payee = records.party(host, "PAYEE", "Printer", field_name="payee")
    db.session.commit()
    args = {"collective": rowers, "amount": 100, **kwargs}
    if args["collective"] == "payee":
        args["collective"] = payee
    if message is None:
        assert contributions.create_expected(host, admin, **args).from_account.name == "Anonymous"
        return
    with pytest.raises(RecordError, match=message):
        contributions.create_expected(host, admin, **args)
    assert db.session.scalar(select(Order.id)) is None


def test_a_received_contribution_can_be_unlinked_back_to_expected_and_received_again(river):
    host, rowers, admin = river
    order = contributions.create_expected(host, admin, collective=rowers, amount=10000)
    imp = make_import(host)
    row = make_import_row(imp, amount=10000, date=date(2026, 11, 10))
    db.session.commit()
    triage.link_order(host, admin, row, order.id)
    triage.unlink(host, admin, row, "wrong line")

    contributions.mark_received(host, admin, order.id, cleared_at=NOV_3)

    details = contributions.details(host, db.session.get(Order, order.id))
    assert len(details["groups"]) == 3  # the link, its reversal, the receipt
    assert balances(host)[rowers.id] == 9500


def test_history_follows_an_edited_added_funds_chain_both_ways(river):
    from hostadmin.funds import service
    host, rowers, admin = river
    original = service.add_funds(host, admin, collective=rowers, amount=1000, cleared_at=NOV_3,
                                 description="Cheque")
    middle = service.edit_funds(host, admin, original.id, amount=900, reason="typo")
    last = service.edit_funds(host, admin, middle.id, amount=800, reason="typo again")

    assert [o.id for o in contributions.history(middle)] == [original.id, middle.id, last.id]
    assert [o.id for o in contributions.history(original)] == [original.id, middle.id, last.id]
    groups = contributions.details(host, original)["groups"]
    assert len(groups) == 2 and all(r.is_refund for r in groups[1][1])


def test_contribution_filters_and_keyset_pages(river):
    host, rowers, admin = river
    choir = make_collective(host, "Harbour Choir")
    db.session.commit()
    made = [contributions.create_expected(host, admin, collective=rowers if n % 2 else choir, amount=100 * n,
                                          contributor_name="Ann Lee" if n % 3 else "Bob")
            for n in range(1, 61)]
    contributions.mark_received(host, admin, made[0].id, cleared_at=NOV_3)

    first, cursor = contributions.page(host, Filters())
    second, end = contributions.page(host, Filters(), after=cursor)
    assert [o.id for o in first + second] == [o.id for o in reversed(made)] and end is None
    args = {"status": "pending", "collective": str(rowers.id), "party": "ann", "min": "1.00", "max": "20.00"}
    narrowed, _ = contributions.page(host, Filters.from_args(args, contributions.STATUSES, "USD"))
    assert [o.amount for o in narrowed] == [1900, 1700, 1300, 1100, 700, 500]
    by_date = Filters.from_args({"from": "2026-11-03", "to": "2026-11-03"}, contributions.STATUSES, "USD")
    assert [o.id for o in contributions.page(host, by_date)[0]] == [made[0].id]
    junk = Filters.from_args({"min": "1.001", "from": "soon", "status": "NOPE", "collective": "x"},
                             contributions.STATUSES, "USD")
    assert junk.errors == ("“1.001” has too many decimals: USD amounts have at most 2 decimals",
                           "“soon” is not a date (YYYY-MM-DD)")
    assert junk.to_args("USD") == {}
    assert Filters.from_args(args, contributions.STATUSES, "USD").to_args("USD") == {
        "status": "PENDING", "collective": str(rowers.id), "party": "ann", "min": "1.00", "max": "20.00"}


def test_party_search_finds_names_containing_the_text_starting_ones_first(river):
    host, _, _ = river
    for name in ["Zed Ann", "Annabel", "Bob", "ann_x%"]:
        records.party(host, "CONTRIBUTOR", name, field_name="contributor")
    records.party(host, "PAYEE", "Anna Payee", field_name="payee")
    db.session.commit()
    assert [a.name for a in records.search_parties(host, "CONTRIBUTOR", "ann")] == ["ann_x%", "Annabel", "Zed Ann"]
    assert [a.name for a in records.search_parties(host, "CONTRIBUTOR", "_x%")] == ["ann_x%"]
    assert records.search_parties(host, "CONTRIBUTOR", "  ") == []


# --------------------------------------------------------------------------- expenses

def record(host, rowers, admin, **kwargs):
    return expenses.record_expense(host, admin, **{"collective": rowers, "payee_name": "Print Shop",
                                                   "amount": 1250, "description": "Flyers", **kwargs})


def test_expense_is_recorded_pending_then_approved_then_paid_on_the_date_the_money_left(river):
    host, rowers, admin = river
    from hostadmin.funds import service
    service.add_funds(host, admin, collective=rowers, amount=10000, cleared_at=NOV_3, description="Seed",
                      host_fee_bps=0)
    expense = record(host, rowers, admin, incurred_on=date(2026, 11, 1))
    assert (expense.status, expense.incurred_on, expense.payee.kind) == ("PENDING", date(2026, 11, 1), "PAYEE")
    with pytest.raises(RecordError, match="awaiting approval: only an approved expense can be marked paid"):
        expenses.mark_paid(host, admin, expense.id, cleared_at=NOV_3)

    expenses.approve(host, admin, expense.id)
    expenses.mark_paid(host, admin, expense.id,
                       cleared_at=cleared.cleared_at_for_day(host, date(2026, 11, 5)))

    paid = db.session.get(type(expense), expense.id)
    rows = [r for r in ledger_rows() if r.expense_id == expense.id]
    assert paid.status == "PAID" and paid.paid_at == datetime(2026, 11, 5, tzinfo=timezone.utc)
    assert {r.cleared_at for r in rows} == {paid.paid_at} and len(rows) == 2
    assert balances(host)[rowers.id] == 10000 - 1250
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "expenses")
                                 .order_by(AuditEntry.id)).all()
    assert actions == ["expense.create", "expense.approve", "expense.pay"]
    with pytest.raises(RecordError, match="is paid: it cannot be rejected"):
        expenses.reject(host, admin, expense.id, reason="late")
    with pytest.raises(RecordError, match="is paid: it cannot be approved"):
        expenses.approve(host, admin, expense.id)


def test_reject_needs_a_reason_and_a_rejected_expense_cannot_be_approved_paid_or_linked(river):
    host, rowers, admin = river
    expense = record(host, rowers, admin)
    expenses.approve(host, admin, expense.id)
    with pytest.raises(RecordError, match="a reason is required"):
        expenses.reject(host, admin, expense.id, reason=" \x00 ")

    expenses.reject(host, admin, expense.id, reason="Duplicate of #3")

    assert (expense.status, expense.reject_reason) == ("REJECTED", "Duplicate of #3")
    for action in (lambda: expenses.approve(host, admin, expense.id),
                   lambda: expenses.mark_paid(host, admin, expense.id, cleared_at=NOV_3)):
        with pytest.raises(RecordError, match="is rejected"):
            action()
    imp = make_import(host)
    row = make_import_row(imp, amount=-1250)
    db.session.commit()
    with pytest.raises(triage.TriageError, match="is rejected, not waiting for payment"):
        triage.link_expense(host, admin, row, expense.id)
    assert ledger_rows() == []


def test_triage_links_an_approved_expense_but_not_one_awaiting_approval(river):
    host, rowers, admin = river
    expense = record(host, rowers, admin)
    imp = make_import(host)
    row = make_import_row(imp, amount=-1250, date=date(2026, 11, 12))
    db.session.commit()
    assert triage.suggestions(host, row) == []
    with pytest.raises(triage.TriageError, match="is pending, not waiting for payment"):
        triage.link_expense(host, admin, row, expense.id)
    expenses.approve(host, admin, expense.id)
    assert [s["object"].id for s in triage.suggestions(host, row)] == [expense.id]
    triage.link_expense(host, admin, row, expense.id)
    assert expense.status == "PAID" and expenses.details(host, expense)["bank_lines"] == [row]


def test_mark_paid_refuses_a_closed_month_and_a_future_date(river):
    host, rowers, admin = river
    expense = record(host, rowers, admin)
    expenses.approve(host, admin, expense.id)
    periods.close_month(host, admin, "2026-10")
    with pytest.raises(RecordError, match="October 2026 is closed"):
        expenses.mark_paid(host, admin, expense.id, cleared_at=datetime(2026, 10, 2, tzinfo=timezone.utc))
    with pytest.raises(cleared.ClearedDateError, match="cannot be in the future"):
        cleared.cleared_at_for_day(host, date(2026, 11, 21))
    assert expense.status == "APPROVED" and ledger_rows() == []


@pytest.mark.parametrize("kwargs,message", [
    ({"amount": 0}, "positive whole number"),
    ({"description": "  "}, "describe the expense"),
    ({"payee_name": ""}, "name the payee"),
    ({"incurred_on": date(2026, 11, 21)}, "date incurred cannot be in the future"),
    ({"collective": None}, "choose one of the host's collectives"),
])
def test_record_expense_refusals_name_their_field_and_write_nothing(river, kwargs, message):
    host, rowers, admin = river
    with pytest.raises(RecordError, match=message) as caught:
        record(host, rowers, admin, **kwargs)
    assert getattr(caught.value.__cause__, "field", None) in (
        "amount", "description", "payee", "incurred_on", "collective")
    assert db.session.scalar(select(func.count()).select_from(Account).where(Account.kind == "PAYEE")) == 0


def test_expense_filters_by_status_payee_and_amount(river):
    host, rowers, admin = river
    small = record(host, rowers, admin, amount=500, payee_name="Corner Cafe")
    big = record(host, rowers, admin, amount=90000)
    expenses.approve(host, admin, big.id)
    assert [e.id for e in expenses.page(host, Filters(status="APPROVED"))[0]] == [big.id]
    assert [e.id for e in expenses.page(host, Filters(party="cafe"))[0]] == [small.id]
    assert [e.id for e in expenses.page(host, Filters(max_amount=1000))[0]] == [small.id]
