"""`flask ledger backfill-cleared-at`: old groups without cleared_at get one, through a gate nothing else passes."""
import uuid
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from hostadmin.extensions import db
from hostadmin.funds import periods
from hostadmin.funds.checks import ledger_problems
from hostadmin.ledger.guards import BACKFILL_OPTION, LedgerImmutableError
from hostadmin.ledger.models import Expense, LedgerTransaction, Order
from tests.factories import (
    make_bank_account, make_collective, make_contributor, make_host, make_import, make_import_row, make_payee,
    make_user,
)

Row = LedgerTransaction


def moment(month, day_, hour=0):
    return datetime(2026, month, day_, hour, tzinfo=timezone.utc)


def insert_legacy_group(host, credit, debit, amount, *, created_at, cleared_at=None, order=None, expense=None,
                        reverses=None):
    """A two-row group written the way old code did: cleared_at NULL (raw inserts; the ORM path refuses)."""
    group_id = str(uuid.uuid4())
    ids = []
    for index, (account, counterparty, signed) in enumerate(((credit, debit, amount), (debit, credit, -amount))):
        values = dict(host_id=host.id, group_id=group_id, kind="CONTRIBUTION", type="CREDIT" if signed > 0 else "DEBIT",
                      account_id=account.id, counterparty_id=counterparty.id, amount=signed, currency="USD",
                      amount_in_host_currency=signed, host_currency="USD", description="Old entry",
                      order_id=order.id if order else None, expense_id=expense.id if expense else None,
                      is_refund=reverses is not None, refund_of_id=reverses[index] if reverses else None,
                      created_at=created_at, cleared_at=cleared_at if index == 0 else None)
        ids.append(db.session.execute(insert(Row.__table__).values(**values).returning(Row.__table__.c.id)).scalar())
    return group_id, ids


def legacy_inserts_allowed():
    """On PostgreSQL the insert trigger refuses NULL cleared_at since 0004_h8: old rows predate it."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ALTER TABLE ledger_transactions DISABLE TRIGGER ledger_transactions_cleared"))


def legacy_inserts_done():
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ALTER TABLE ledger_transactions ENABLE TRIGGER ledger_transactions_cleared"))
    db.session.commit()


def cleared_of(group_id):
    return set(db.session.scalars(select(Row.cleared_at).where(Row.group_id == group_id)))


def null_rows():
    return db.session.scalar(select(func.count()).where(Row.cleared_at.is_(None)))


@pytest.fixture
def legacy(any_app):
    """Groups from before cleared_at was required, one per back-fill source, on SQLite or PostgreSQL."""
    return make_legacy_groups()


@pytest.fixture
def pg_legacy(pg_app):
    """The same groups on PostgreSQL only, and a `flask` runner there."""
    runner = pg_app.test_cli_runner()
    return make_legacy_groups(), lambda *args: runner.invoke(args=list(args))


def make_legacy_groups():
    host = make_host(slug="river")
    admin = make_user(host)
    rowers, giver, payee = make_collective(host), make_contributor(host), make_payee(host)
    account = make_bank_account(host)
    order = Order(host_id=host.id, kind="CONTRIBUTION", status="PAID", from_account_id=giver.id,
                  to_account_id=rowers.id, amount=700, currency="USD", paid_at=moment(11, 7, 12))
    late = Order(host_id=host.id, kind="CONTRIBUTION", status="PAID", from_account_id=giver.id,
                 to_account_id=rowers.id, amount=300, currency="USD", paid_at=moment(10, 28))
    expense = Expense(host_id=host.id, collective_id=rowers.id, payee_id=payee.id, amount=200, currency="USD",
                      status="PAID", paid_at=moment(11, 2, 9))
    db.session.add_all([order, late, expense])
    db.session.flush()
    recorded = moment(11, 15, 10)
    legacy_inserts_allowed()
    groups = {
        "bank": insert_legacy_group(host, rowers, giver, 500, created_at=recorded),
        "order": insert_legacy_group(host, rowers, giver, 700, created_at=recorded, order=order),
        "expense": insert_legacy_group(host, payee, rowers, 200, created_at=recorded, expense=expense),
        "plain": insert_legacy_group(host, rowers, giver, 900, created_at=recorded),
        "half": insert_legacy_group(host, rowers, giver, 400, created_at=recorded, cleared_at=moment(11, 1)),
        # Paid in October, recorded in November; October is closed below, so its date cannot be used.
        "closed": insert_legacy_group(host, rowers, giver, 300, created_at=recorded, order=late),
    }
    bank_id, bank_rows = groups["bank"]
    groups["reversal"] = insert_legacy_group(host, giver, rowers, 500, created_at=moment(11, 18),
                                             reverses=bank_rows)
    legacy_inserts_done()
    make_import_row(make_import(host, bank_account=account), amount=500, date=date(2026, 11, 5),
                    bank_account=account, status="LINKED", ledger_group_id=bank_id)
    periods.close_month(host, admin, "2026-10")
    db.session.commit()
    return {name: group_id for name, (group_id, _) in groups.items()}


def test_backfill_dry_run_reports_by_source_and_writes_nothing_then_the_run_sets_one_date_per_group(legacy, cli):
    before = null_rows()

    dry = cli("ledger", "backfill-cleared-at", "--dry-run")

    assert dry.exit_code == 0, dry.output
    assert dry.stdout.splitlines() == [
        "Dry run, nothing written: would back-fill cleared_at on 7 groups (13 rows)",
        "  rest of its group: 1 group (1 row)",
        "  reversed group: 1 group (2 rows)",
        "  bank line: 1 group (2 rows)",
        "  order paid date: 1 group (2 rows)",
        "  expense paid date: 1 group (2 rows)",
        "  created_at: 1 group (2 rows)",
        "  created_at (date fell in a closed month): 1 group (2 rows)",
    ]
    db.session.expire_all()
    assert null_rows() == before == 13

    run = cli("ledger", "backfill-cleared-at")

    assert run.exit_code == 0, run.output
    assert run.stdout.splitlines()[0] == "Back-filled cleared_at on 7 groups (13 rows)"
    assert run.stdout.splitlines()[1:] == dry.stdout.splitlines()[1:]
    db.session.expire_all()
    assert null_rows() == 0 and ledger_problems() == []
    assert cleared_of(legacy["bank"]) == {moment(11, 5)}             # the bank date, 00:00 in the host's zone
    assert cleared_of(legacy["reversal"]) == {moment(11, 5)}         # dated like what it reverses
    assert cleared_of(legacy["order"]) == {moment(11, 7, 12)}
    assert cleared_of(legacy["expense"]) == {moment(11, 2, 9)}
    assert cleared_of(legacy["plain"]) == {moment(11, 15, 10)}
    assert cleared_of(legacy["half"]) == {moment(11, 1)}
    assert cleared_of(legacy["closed"]) == {moment(11, 15, 10)}      # October stays as it was closed

    again = cli("ledger", "backfill-cleared-at")

    assert again.exit_code == 0 and again.stdout.splitlines() == ["Back-filled cleared_at on 0 groups (0 rows)"]
    db.session.expire_all()
    assert cleared_of(legacy["order"]) == {moment(11, 7, 12)}


def test_the_orm_guard_refuses_every_other_update_even_from_core_statements(legacy, cli):
    statements = [
        update(Row).values(description="changed"),
        update(Row.__table__).values(description="changed"),           # no mapper: passed the guard before
        update(Row.__table__).values(cleared_at=moment(11, 3), description="changed")
        .execution_options(**{BACKFILL_OPTION: True}),                  # the gate only lets cleared_at through
        update(Row.__table__).where(Row.cleared_at.is_(None)).values(cleared_at=moment(11, 3)),  # no gate
    ]
    for statement in statements:
        with pytest.raises(LedgerImmutableError):
            db.session.execute(statement)
        db.session.rollback()
    assert null_rows() == 13
    assert cli("ledger", "backfill-cleared-at").exit_code == 0


def test_the_postgres_trigger_lets_only_the_backfill_change_through(pg_legacy):
    legacy, cli = pg_legacy

    def refused(statement, backfill=False):
        with pytest.raises(DBAPIError) as error:
            if backfill:
                db.session.execute(text("SET LOCAL hostadmin.backfill = 'on'"))
            db.session.execute(text(statement), {"g": legacy["plain"], "day": moment(11, 3)})
            db.session.flush()
        db.session.rollback()
        return str(error.value)

    # Without the setting nothing changes, not even NULL -> value.
    assert "immutable" in refused("UPDATE ledger_transactions SET cleared_at = :day WHERE group_id = :g")
    # With it: no other column may change, and a DELETE stays refused.
    assert "immutable" in refused("UPDATE ledger_transactions SET cleared_at = :day, amount = amount * 2 "
                                  "WHERE group_id = :g", backfill=True)
    assert "immutable" in refused("DELETE FROM ledger_transactions WHERE group_id = :g", backfill=True)
    # Nor may it move a row into (or out of) a closed month.
    assert "closed month" in refused("UPDATE ledger_transactions SET cleared_at = '2026-10-10T00:00:00Z' "
                                     "WHERE group_id = :g AND cleared_at IS NULL", backfill=True)
    # The setting ends with its transaction.
    db.session.execute(text("SET LOCAL hostadmin.backfill = 'on'"))
    db.session.commit()
    assert "immutable" in refused("UPDATE ledger_transactions SET cleared_at = :day WHERE group_id = :g")

    assert cli("ledger", "backfill-cleared-at").exit_code == 0
    db.session.expire_all()
    # Once set, a date is never changed again, even by the back-fill's own gate.
    assert "immutable" in refused("UPDATE ledger_transactions SET cleared_at = :day WHERE group_id = :g",
                                  backfill=True)
    assert cleared_of(legacy["plain"]) == {moment(11, 15, 10)}


def test_a_group_whose_own_date_lies_in_a_closed_month_waits_for_the_month_to_reopen(any_app, cli):
    host = make_host(slug="lake")
    admin = make_user(host)
    rowers, giver = make_collective(host), make_contributor(host)
    # Closed first: a month whose rows do not balance cannot be closed (its report would not reconcile),
    # so the partly dated legacy group is one that came in with an old release, under the closed month.
    periods.close_month(host, admin, "2026-10")
    legacy_inserts_allowed()
    group_id, _ = insert_legacy_group(host, rowers, giver, 400, created_at=moment(11, 15), cleared_at=moment(10, 9))
    legacy_inserts_done()

    held = cli("ledger", "backfill-cleared-at")

    assert held.exit_code == 0, held.output
    assert held.stdout.splitlines() == [
        "Back-filled cleared_at on 0 groups (0 rows)",
        f"  skipped group {group_id}: its other rows' date would change a closed month"]
    db.session.expire_all()
    assert null_rows() == 1

    periods.reopen_month(host, admin, "2026-10", reason="Back-fill of an old entry")
    done = cli("ledger", "backfill-cleared-at")

    assert done.stdout.splitlines()[1:] == ["  rest of its group: 1 group (1 row)"]
    db.session.expire_all()
    assert cleared_of(group_id) == {moment(10, 9)} and ledger_problems() == []
