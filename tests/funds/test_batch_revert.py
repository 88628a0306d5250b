"""Batch revert: 1,000 added-funds contributions in one transaction, every balance checked; all or nothing."""
from collections import defaultdict
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import event, func, select, text

from hostadmin.audit.models import AuditEntry
from hostadmin.extensions import db
from hostadmin.funds import batch, periods, service
from hostadmin.funds.service import FundsError, Stale
from hostadmin.imports import service as triage
from hostadmin.imports.models import ImportRow
from hostadmin.ledger import service as ledger
from hostadmin.ledger.models import AccountKind, Account, LedgerTransaction, Order
from tests.factories import make_collective, make_host, make_import, make_import_row, make_user

N = 1000


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def funds(count):
    """`count` + 5 added funds over three collectives (October's closed), five of them from bank lines."""
    host = make_host(slug="river", host_fee_bps=800)
    user = make_user(host)
    collectives = [make_collective(host, name) for name in ("River Rowers", "Harbour Choir", "Town Band")]
    source = service._contributor(host, "Anonymous")
    orders = []
    for i in range(count):  # the add_funds service's writes, committed once to keep the setup quick
        day = datetime(2026, 10 + i % 2, 1 + i % 28, tzinfo=timezone.utc)
        order = service._new_order(host, user, collective=collectives[i % 3], amount=1000 + 7 * i,
                                   description=f"Cheque {i}", contributor=source, host_fee_bps=800,
                                   processor_fee=i % 5 * 10)
        ledger.record_added_funds_paid(order, cleared_at=day, created_by=user)
        orders.append(order)
    imp = make_import(host)
    lines = [make_import_row(imp, amount=5000 + i, date=date(2026, 11, 10 + i)) for i in range(5)]
    db.session.commit()
    for line in lines:
        triage.add_funds(host, user, line, collective=collectives[0], new_contributor={"name": "Bank"})
        orders.append(db.session.get(Order, line.order_id))
    periods.close_month(host, user, "2026-10")
    return host, user, collectives, orders, lines


@pytest.fixture
def busy(any_app):
    """1,010 added funds: the stress tests revert the newest 1,000."""
    return funds(N + 5)


@pytest.fixture
def few(any_app):
    return funds(30)


def expected_balances(host, kept):
    """Every account's balance from the contributions left, computed without the ledger."""
    totals = defaultdict(int)
    host_account = ledger.host_account_of(host)
    processor = db.session.scalar(select(Account).where(Account.kind == AccountKind.PROCESSOR.value))
    for order in kept:
        host_fee = ledger.host_fee_of(order.amount, order.host_fee_bps)
        processor_fee = (order.data or {}).get("processor_fee", 0)
        totals[order.to_account_id] += order.amount - host_fee - processor_fee
        totals[order.from_account_id] -= order.amount
        totals[host_account.id] += host_fee
        totals[processor.id] += processor_fee
    return {k: v for k, v in totals.items() if v}


def test_batch_revert_of_a_thousand_is_one_transaction_and_leaves_every_balance_right(busy):
    host, user, collectives, orders, lines = busy
    chosen, kept = orders[-N:], orders[:-N]  # includes the five from bank lines and October's closed ones
    commits = []

    def count_commit(connection):
        commits.append(connection)
    event.listen(db.engine, "commit", count_commit)
    try:
        done = service.revert_funds(host, user, [o.id for o in chosen], reason="Cheques bounced")
    finally:
        event.remove(db.engine, "commit", count_commit)
    assert len(commits) == 1 and len(done) == N

    db.session.expire_all()
    balances = {k: v for k, v in ledger.balances(host).items() if v}
    assert balances == expected_balances(host, [db.session.get(Order, o.id) for o in kept])
    assert {db.session.get(Order, o.id).status for o in chosen} == {"REFUNDED"}
    assert {r.status for r in db.session.scalars(select(ImportRow))} == {"PENDING"}
    reversals = db.session.scalars(select(LedgerTransaction).where(LedgerTransaction.is_refund.is_(True))).all()
    originals = {r.id: r for r in db.session.scalars(select(LedgerTransaction).where(
        LedgerTransaction.order_id.in_([o.id for o in chosen]), LedgerTransaction.is_refund.is_(False)))}
    assert len(reversals) == len(originals) and {r.refund_of_id for r in reversals} == set(originals)
    for row in reversals:
        original = originals[row.refund_of_id]
        assert row.amount == -original.amount and row.correction == "REVERT" and "Cheques bounced" in row.reason
        october = original.cleared_at.month == 10  # closed: the reversal lands on today
        assert row.cleared_at == (datetime(2026, 11, 20, tzinfo=timezone.utc) if october else original.cleared_at)
    assert count(AuditEntry) >= N
    with pytest.raises(FundsError, match="already reverted"):
        service.revert_funds(host, user, [chosen[0].id], reason="again")


def test_a_failure_at_the_thousandth_reversal_writes_nothing_at_all(busy):
    host, user, collectives, orders, lines = busy
    chosen = orders[-N:]
    last = max(o.id for o in chosen)
    before = (count(LedgerTransaction), count(AuditEntry), ledger.balances(host))
    dialect = db.engine.dialect.name
    if dialect == "sqlite":
        db.session.execute(text(f"CREATE TRIGGER inject_failure BEFORE INSERT ON ledger_transactions "
                                f"WHEN NEW.order_id = {last} AND NEW.is_refund "
                                f"BEGIN SELECT RAISE(ABORT, 'injected failure'); END"))
    else:
        db.session.execute(text(
            "CREATE FUNCTION inject_failure() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF NEW.order_id = {last} AND NEW.is_refund THEN RAISE EXCEPTION 'injected failure'; END IF; "
            "RETURN NEW; END $$"))
        db.session.execute(text("CREATE TRIGGER inject_failure BEFORE INSERT ON ledger_transactions "
                                "FOR EACH ROW EXECUTE FUNCTION inject_failure()"))
    db.session.commit()
    try:
        with pytest.raises(Exception, match="injected failure"):
            service.revert_funds(host, user, [o.id for o in chosen], reason="Cheques bounced")
    finally:
        db.session.rollback()
        db.session.execute(text("DROP TRIGGER inject_failure" + ("" if dialect == "sqlite" else
                                                                 " ON ledger_transactions")))
        if dialect != "sqlite":
            db.session.execute(text("DROP FUNCTION inject_failure()"))
        db.session.commit()

    db.session.expire_all()
    assert (count(LedgerTransaction), count(AuditEntry), ledger.balances(host)) == before
    assert {db.session.get(Order, o.id).status for o in chosen} == {"PAID"}
    assert {r.status for r in db.session.scalars(select(ImportRow))} == {"LINKED"}


def test_batch_preview_totals_per_collective_and_writes_nothing(few):
    host, user, collectives, orders, lines = few
    chosen = orders[-30:]
    before = count(LedgerTransaction)

    preview = batch.preview(host, user, [o.id for o in chosen], reason="Cheques bounced")

    assert count(LedgerTransaction) == before
    assert sum(t.count for t in preview.totals) == 30 and preview.bank_lines == 5
    for total in preview.totals:
        mine = [o for o in chosen if o.to_account_id == total.collective.id]
        assert total.amount == sum(o.amount for o in mine)
        assert total.balance_before - total.balance_after == total.net == sum(
            o.amount - ledger.host_fee_of(o.amount, 800) - (o.data or {}).get("processor_fee", 0) for o in mine)
    assert preview.rows_reversed == sum(4 + (2 if (o.data or {}).get("processor_fee") else 0) for o in chosen)


def test_a_batch_with_one_contribution_changed_since_the_preview_is_refused_whole(few):
    host, user, collectives, orders, lines = few
    chosen = orders[-3:]
    shown = {o.id: o.version for o in chosen}
    service.edit_funds(host, user, chosen[1].id, reason="Typo", amount=chosen[1].amount + 1)
    written = count(LedgerTransaction)

    with pytest.raises(Stale, match="changed by someone else meanwhile"):
        service.revert_funds(host, user, list(shown), reason="Bounced", versions=shown)

    assert count(LedgerTransaction) == written
    assert db.session.get(Order, chosen[0].id).status == "PAID"
