"""Row actions: ledger effects, cleared dates, audit entries and refusals."""
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import update

from hostadmin.audit.models import AuditEntry
from hostadmin.imports import service, undo
from hostadmin.imports.models import ImportRow
from hostadmin.imports.service import TriageError
from hostadmin.ledger import accounts, service as ledger
from hostadmin.ledger.models import ExpenseStatus, LedgerTransaction, Order, OrderKind, OrderStatus
from tests.factories import (
    make_bank_account, make_collective, make_contributor, make_host, make_import, make_import_row, make_payee,
    make_user,
)

BANK_DATE = date(2026, 11, 10)
CLEARED = datetime(2026, 11, 10, tzinfo=timezone.utc)


@pytest.fixture
def world(db):
    host = make_host(slug="river", host_fee_bps=1000)
    rowers = make_collective(host, "River Rowers")
    account = make_bank_account(host, default_collective=rowers)
    imp = make_import(host, "Checking", bank_account=account)
    admin = make_user(host)
    db.session.commit()
    return host, rowers, account, imp, admin


def audit_actions(host):
    return [e.action for e in AuditEntry.query.filter_by(host_id=host.id).order_by(AuditEntry.id)]


def group_rows(group_id):
    return LedgerTransaction.query.filter_by(group_id=group_id).order_by(LedgerTransaction.id).all()


def test_add_funds_creates_a_paid_added_funds_order_cleared_at_the_bank_date(world, db):
    host, rowers, account, imp, admin = world
    row = make_import_row(imp, amount=50000, date=BANK_DATE, bank_account=account, description="ACME GRANT")

    service.add_funds(host, admin, row, collective=rowers, new_contributor={"name": "Acme Foundation"},
                      description="Grant instalment")

    order = db.session.get(Order, row.order_id)
    assert (row.status, order.kind, order.status, order.amount) == ("LINKED", "ADDED_FUNDS", "PAID", 50000)
    assert order.from_account.name == "Acme Foundation" and order.to_account_id == rowers.id
    entries = group_rows(row.ledger_group_id)
    assert {e.cleared_at for e in entries} == {CLEARED}
    assert ledger.balances(host)[rowers.id] == 45000  # less the 10% host fee
    assert audit_actions(host)[-1] == "import_row.add_funds"


def test_add_funds_refuses_money_going_out(world):
    host, rowers, account, imp, admin = world
    row = make_import_row(imp, amount=-2500)
    with pytest.raises(TriageError, match="Only money coming in"):
        service.add_funds(host, admin, row, collective=rowers, contributor=make_contributor(host))
    assert row.status == "PENDING" and LedgerTransaction.query.count() == 0


def test_a_row_can_be_linked_only_once(world):
    host, rowers, account, imp, admin = world
    row = make_import_row(imp, amount=50000)
    donor = make_contributor(host)
    service.add_funds(host, admin, row, collective=rowers, contributor=donor)

    with pytest.raises(TriageError, match="already linked"):
        service.add_funds(host, admin, row, collective=rowers, contributor=donor)
    assert LedgerTransaction.query.filter_by(is_refund=False).count() == 4  # one group: 2 rows + 2 fee rows


def test_a_stale_copy_of_a_row_cannot_be_linked_twice(world, db):
    """Double submission: another request linked the row after this one read it."""
    host, rowers, account, imp, admin = world
    row = make_import_row(imp, amount=7000)
    donor = make_contributor(host)
    db.session.commit()
    assert row.status == "PENDING"  # this request's copy
    with db.engine.begin() as other_request:
        other_request.execute(update(ImportRow).where(ImportRow.id == row.id)
                              .values(status="LINKED", ledger_group_id="linked-by-the-other-request"))

    with pytest.raises(TriageError, match="already linked"):
        service.add_funds(host, admin, row, collective=rowers, contributor=donor)
    assert Order.query.count() == 0 and LedgerTransaction.query.count() == 0


def test_a_removed_row_cannot_be_linked(world, clock):
    host, rowers, account, imp, admin = world
    row = make_import_row(imp, amount=7000, removed_at=clock.now)
    with pytest.raises(TriageError, match="removed"):
        service.add_funds(host, admin, row, collective=rowers, contributor=make_contributor(host))
    order = accounts.create_order(host, contributor=make_contributor(host), collective=rowers, amount=7000)
    with pytest.raises(TriageError, match="removed"):
        service.link_order(host, admin, row, order.id)
    assert order.status == "PENDING"


def test_link_to_an_expected_contribution_pays_it_at_the_bank_date(world, clock):
    host, rowers, account, imp, admin = world
    order = accounts.create_order(host, contributor=make_contributor(host), collective=rowers, amount=15000)
    row = make_import_row(imp, amount=15000, date=BANK_DATE)

    service.link_order(host, admin, row, order.id)

    assert (order.status, row.order_id, row.status) == ("PAID", order.id, "LINKED")
    assert {e.cleared_at for e in group_rows(row.ledger_group_id)} == {CLEARED}
    assert order.paid_at == CLEARED
    assert audit_actions(host)[-1] == "import_row.link_order"


def test_link_refuses_a_different_amount_or_another_hosts_order(world):
    host, rowers, account, imp, admin = world
    order = accounts.create_order(host, contributor=make_contributor(host), collective=rowers, amount=15000)
    row = make_import_row(imp, amount=14999)
    with pytest.raises(TriageError, match="amounts differ"):
        service.link_order(host, admin, row, order.id)
    lake = make_host(slug="lake")
    theirs = accounts.create_order(lake, contributor=make_contributor(lake), collective=make_collective(lake),
                                   amount=14999)
    with pytest.raises(TriageError, match="no order"):
        service.link_order(host, admin, row, theirs.id)
    assert row.status == "PENDING" and theirs.status == "PENDING"


def test_link_an_approved_expense_from_a_withdrawal(world):
    host, rowers, account, imp, admin = world
    funding = accounts.create_order(host, contributor=make_contributor(host), collective=rowers, amount=90000)
    ledger.record_order_paid(funding, cleared_at=CLEARED)
    expense = accounts.create_expense(host, collective=rowers, payee=make_payee(host), amount=4200)
    row = make_import_row(imp, amount=-4200, date=date(2026, 11, 12))

    service.link_expense(host, admin, row, expense.id)

    assert expense.status == "PAID" and row.expense_id == expense.id
    assert {e.cleared_at.date() for e in group_rows(row.ledger_group_id)} == {date(2026, 11, 12)}
    with pytest.raises(TriageError):
        service.link_expense(host, admin, make_import_row(imp, amount=-4200), expense.id)


def test_suggestions_put_same_amount_within_ten_days_first(world, clock):
    host, rowers, account, imp, admin = world
    donor = make_contributor(host)
    far = accounts.create_order(host, contributor=donor, collective=rowers, amount=5000)  # created 2026-11-20
    clock.now = datetime(2026, 11, 12, 9, tzinfo=timezone.utc)
    near = accounts.create_order(host, contributor=donor, collective=rowers, amount=5000)
    accounts.create_order(host, contributor=donor, collective=rowers, amount=5001)
    row = make_import_row(imp, amount=5000, date=date(2026, 10, 25))

    found = service.suggestions(host, row)

    assert [s["object"].id for s in found] == [near.id, far.id]  # both > 10 days away: closest first
    row_close = make_import_row(imp, amount=5000, date=date(2026, 11, 11))
    ranked = service.suggestions(host, row_close)
    assert [s["object"].id for s in ranked] == [near.id, far.id]
    assert ranked[0]["close"] and ranked[1]["close"]
    assert [s["close"] for s in service.suggestions(host, row)] == [False, False]


def test_ignore_hold_restore_and_their_refusals(world):
    host, rowers, account, imp, admin = world
    row = make_import_row(imp)
    service.change_status(host, admin, row, "ignore")
    assert row.status == "IGNORED"
    with pytest.raises(TriageError, match="already ignored"):
        service.change_status(host, admin, row, "ignore")
    service.change_status(host, admin, row, "hold")
    assert row.status == "ON_HOLD"
    service.change_status(host, admin, row, "restore")
    assert row.status == "PENDING"
    assert audit_actions(host) == ["import_row.ignore", "import_row.hold", "import_row.restore"]
    linked = make_import_row(imp, amount=900)
    service.add_funds(host, admin, linked, collective=rowers, contributor=make_contributor(host))
    with pytest.raises(TriageError, match="unlink it first"):
        service.change_status(host, admin, linked, "ignore")


def test_note_is_kept_up_to_5000_characters(world):
    host, rowers, account, imp, admin = world
    row = make_import_row(imp)
    service.set_note(host, admin, row, "  Called the bank: duplicate wire  ")
    assert row.note == "Called the bank: duplicate wire"
    with pytest.raises(TriageError, match="at most 5,000"):
        service.set_note(host, admin, row, "x" * 5001)
    assert row.note == "Called the bank: duplicate wire"
    entry = AuditEntry.query.filter_by(action="import_row.note").one()
    assert entry.after["note"] == "Called the bank: duplicate wire" and entry.before["note"] is None


def test_unlink_added_funds_reverses_the_group_and_refunds_the_order(world, db):
    host, rowers, account, imp, admin = world
    row = make_import_row(imp, amount=20000, date=BANK_DATE)
    service.add_funds(host, admin, row, collective=rowers, contributor=make_contributor(host))
    group, order_id = row.ledger_group_id, row.order_id

    service.unlink(host, admin, row, "Wrong collective")

    reversal = LedgerTransaction.query.filter_by(is_refund=True).all()
    originals = group_rows(group)
    assert sorted(r.refund_of_id for r in reversal) == sorted(o.id for o in originals)
    assert {r.cleared_at for r in reversal} == {CLEARED}
    assert all("Wrong collective" in r.reason for r in reversal)
    assert ledger.balances(host)[rowers.id] == 0
    assert db.session.get(Order, order_id).status == OrderStatus.REFUNDED.value
    assert (row.status, row.order_id, row.ledger_group_id) == ("PENDING", None, None)
    assert audit_actions(host)[-1] == "import_row.unlink"


def test_unlink_an_expected_contribution_puts_it_back_to_pending_to_link_again(world):
    host, rowers, account, imp, admin = world
    order = accounts.create_order(host, contributor=make_contributor(host), collective=rowers, amount=3000)
    wrong = make_import_row(imp, amount=3000, description="wrong line")
    right = make_import_row(imp, amount=3000, description="right line")
    service.link_order(host, admin, wrong, order.id)

    service.unlink(host, admin, wrong, "Linked to the wrong bank line")
    assert order.status == "PENDING" and order.paid_at is None
    service.link_order(host, admin, right, order.id)
    assert order.status == "PAID" and ledger.balances(host)[rowers.id] == 2700


def test_unlink_an_expense_makes_it_approved_again(world):
    host, rowers, account, imp, admin = world
    funding = accounts.create_order(host, contributor=make_contributor(host), collective=rowers, amount=9000)
    ledger.record_order_paid(funding, cleared_at=CLEARED)
    expense = accounts.create_expense(host, collective=rowers, payee=make_payee(host), amount=1000)
    row = make_import_row(imp, amount=-1000)
    service.link_expense(host, admin, row, expense.id)
    service.unlink(host, admin, row, "Paid from another account")
    assert expense.status == ExpenseStatus.APPROVED.value and row.status == "PENDING"


def test_unlink_needs_a_reason_and_a_linked_row(world):
    host, rowers, account, imp, admin = world
    row = make_import_row(imp)
    with pytest.raises(TriageError, match="not linked"):
        service.unlink(host, admin, row, "why")
    service.add_funds(host, admin, row, collective=rowers, contributor=make_contributor(host))
    with pytest.raises(TriageError, match="Say why"):
        service.unlink(host, admin, row, "  ")
    assert row.status == "LINKED" and LedgerTransaction.query.filter_by(is_refund=True).count() == 0


def test_undo_puts_back_the_last_status_change_then_the_one_before(world):
    host, rowers, account, imp, admin = world
    first, second = make_import_row(imp), make_import_row(imp)
    service.change_status(host, admin, first, "hold")
    service.change_status(host, admin, second, "ignore")

    undo.undo(host, admin, undo.last_undoable(host, admin))
    assert second.status == "PENDING" and first.status == "ON_HOLD"
    undo.undo(host, admin, undo.last_undoable(host, admin))
    assert first.status == "PENDING"
    assert undo.last_undoable(host, admin) is None


def test_undo_of_a_link_asks_for_the_unlink_confirmation(world):
    host, rowers, account, imp, admin = world
    row = make_import_row(imp)
    service.add_funds(host, admin, row, collective=rowers, contributor=make_contributor(host))
    entry = undo.last_undoable(host, admin)
    assert entry.action == "import_row.add_funds"
    with pytest.raises(TriageError, match="confirm the unlink"):
        undo.undo(host, admin, entry)
    assert row.status == "LINKED"


def test_assigning_a_bank_account_sets_the_add_funds_default(world, db):
    host, rowers, account, imp, admin = world
    choir = make_collective(host, "Harbour Choir")
    service.set_default_collective(host, admin, account, choir)
    assert account.default_collective_id == choir.id
    lake = make_host(slug="lake")
    with pytest.raises(TriageError):
        service.set_default_collective(host, admin, account, make_collective(lake))
    db.session.rollback()
    assert audit_actions(host)[-1] == "bank_account.assign"


def test_foreign_currency_row_is_refused_before_anything_is_written(world, db):
    host, rowers, account, imp, admin = world
    row = make_import_row(imp, amount=5000, currency="EUR")
    donor = make_contributor(host)
    db.session.commit()
    with pytest.raises(TriageError, match="only USD"):
        service.add_funds(host, admin, row, collective=rowers, contributor=donor)
    assert row.status == "PENDING" and Order.query.filter_by(kind=OrderKind.ADDED_FUNDS.value).count() == 0


def test_undo_skips_a_link_that_was_unlinked_since(world):
    host, rowers, account, imp, admin = world
    held, linked = make_import_row(imp), make_import_row(imp)
    service.change_status(host, admin, held, "hold")
    service.add_funds(host, admin, linked, collective=rowers, contributor=make_contributor(host))
    service.unlink(host, admin, linked, "Wrong row")
    assert undo.last_undoable(host, admin).action == "import_row.hold"


def test_a_note_typed_on_a_stale_row_is_refused_and_the_other_admins_note_kept(world, db):
    """Two admins open the same row's note; the second save is refused, not a silent overwrite."""
    host, rowers, account, imp, admin = world
    row = make_import_row(imp)
    seen = row.version
    service.set_note(host, admin, row, "Bea: the donor called", seen)
    assert row.version == seen + 1
    with pytest.raises(TriageError, match="changed by someone else meanwhile.*still in the box"):
        service.set_note(host, admin, row, "Al: duplicate wire", seen)
    db.session.expire_all()
    assert db.session.get(ImportRow, row.id).note == "Bea: the donor called"
    service.set_note(host, admin, row, "Al: duplicate wire", row.version)  # a save based on what is shown now
    assert row.note == "Al: duplicate wire"


def test_every_triage_change_moves_a_rows_version(world, db):
    host, rowers, account, imp, admin = world
    row = make_import_row(imp)
    db.session.commit()
    versions_seen = [row.version]
    for change in (lambda: service.change_status(host, admin, row, "ignore"),
                   lambda: service.change_status(host, admin, row, "restore"),
                   lambda: service.add_funds(host, admin, row, collective=rowers, contributor=make_contributor(host)),
                   lambda: service.unlink(host, admin, row, "Wrong collective")):
        change()
        db.session.expire_all()
        versions_seen.append(db.session.get(ImportRow, row.id).version)
    assert versions_seen == sorted(set(versions_seen)), versions_seen  # strictly increasing


def test_an_unlinked_row_drops_the_collective_of_its_link_and_keeps_its_own_assignment(world, db):
    host, rowers, account, imp, admin = world
    swimmers = make_collective(host, "Swimmers")
    order = accounts.create_order(host, contributor=make_contributor(host), collective=rowers, amount=3000)
    plain = make_import_row(imp, amount=3000)
    assigned = make_import_row(imp, amount=4000, collective_id=swimmers.id)
    service.link_order(host, admin, plain, order.id)
    service.add_funds(host, admin, assigned, collective=rowers, contributor=make_contributor(host))
    assert plain.collective_id == rowers.id and assigned.collective_id == rowers.id

    service.unlink(host, admin, plain, "Wrong line")
    service.unlink(host, admin, assigned, "Wrong collective")

    assert plain.collective_id is None
    assert assigned.collective_id == swimmers.id  # the assignment made before the link
