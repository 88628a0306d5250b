"""Added funds: add, edit (reverse and recreate in one transaction), revert (all or nothing)."""
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select, text

from hostadmin.audit.models import AuditEntry
from hostadmin.extensions import db
from hostadmin.funds import cleared, collectives, periods, service
from hostadmin.funds.service import FundsError
from hostadmin.imports import service as triage
from hostadmin.ledger import service as ledger
from hostadmin.ledger.models import LedgerTransaction, Order
from tests.factories import make_collective, make_host, make_import, make_import_row, make_user

NOV_3 = datetime(2026, 11, 3, tzinfo=timezone.utc)
OCT_3 = datetime(2026, 10, 3, tzinfo=timezone.utc)


@pytest.fixture
def world(any_app):
    host = make_host(slug="river", host_fee_bps=800)
    user = make_user(host)
    rowers, choir = make_collective(host, "River Rowers"), make_collective(host, "Harbour Choir")
    db.session.commit()
    return host, user, rowers, choir


def add(host, user, collective, amount=10000, cleared_at=NOV_3, **kwargs):
    return service.add_funds(host, user, collective=collective, amount=amount, cleared_at=cleared_at,
                             description=kwargs.pop("description", "Cheque from the fair"), **kwargs)


def rows_of(**where):
    return db.session.scalars(select(LedgerTransaction).filter_by(**where).order_by(LedgerTransaction.id)).all()


def balance(host, collective):
    return ledger.balances(host, [collective.id])[collective.id]


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_add_funds_writes_one_group_with_host_and_processor_fee_pairs_all_cleared_that_day(world):
    host, user, rowers, _ = world
    order = add(host, user, rowers, contributor_name="Ann Lee", processor_fee=120)

    rows = rows_of(order_id=order.id)
    assert (order.kind, order.status, order.data) == ("ADDED_FUNDS", "PAID", {"processor_fee": 120})
    assert sorted((r.kind, r.amount) for r in rows) == [
        ("ADDED_FUNDS", -10000), ("ADDED_FUNDS", 10000), ("HOST_FEE", -800), ("HOST_FEE", 800),
        ("PROCESSOR_FEE", -120), ("PROCESSOR_FEE", 120)]
    assert {r.group_id for r in rows} == {rows[0].group_id} and {r.cleared_at for r in rows} == {NOV_3}
    assert balance(host, rowers) == 10000 - 800 - 120
    assert order.from_account.name == "Ann Lee"
    assert add(host, user, rowers, contributor_name="ann lee").from_account_id == order.from_account_id


def test_add_funds_refuses_fees_above_the_amount_and_a_closed_month(world):
    host, user, rowers, _ = world
    with pytest.raises(FundsError, match="larger than the amount"):
        add(host, user, rowers, amount=1000, processor_fee=950)
    periods.close_month(host, user, "2026-10")
    with pytest.raises(FundsError, match="October 2026 is closed"):
        add(host, user, rowers, cleared_at=OCT_3)
    with pytest.raises(FundsError, match="description is required"):
        add(host, user, rowers, description="  ")
    assert count(Order) == 0 and count(LedgerTransaction) == 0


def test_edit_reverses_every_row_and_recreates_the_corrected_funds_in_one_go(world):
    host, user, rowers, choir = world
    original = add(host, user, rowers, processor_fee=120)
    original_rows = rows_of(order_id=original.id)

    corrected = service.edit_funds(host, user, original.id, reason="Was for the choir", amount=12000,
                                   collective=choir)

    reversal = rows_of(order_id=original.id, is_refund=True)
    assert sorted((r.refund_of_id, r.amount) for r in reversal) == sorted(
        (o.id, -o.amount) for o in original_rows)
    assert {(r.correction, r.cleared_at, r.reason) for r in reversal} == {
        ("EDIT", NOV_3, "Edit: Was for the choir")}
    new_rows = rows_of(order_id=corrected.id)
    assert {r.cleared_at for r in new_rows} == {NOV_3} and len(new_rows) == 6
    assert original.status == "REPLACED" and corrected.status == "PAID"
    assert original.data["replaced_by_order_id"] == corrected.id
    assert original.data["replaced_by_group_id"] == new_rows[0].group_id
    assert corrected.data["replaces_order_id"] == original.id
    assert corrected.data["replaces_group_id"] == original_rows[0].group_id
    assert corrected.data["processor_fee"] == 120 and corrected.host_fee_bps == 800
    assert balance(host, rowers) == 0 and balance(host, choir) == 12000 - 960 - 120
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "funds.edit"))
    assert (entry.object_id, entry.before, entry.after) == (
        original.id, {"amount": 10000, "collective": rowers.slug}, {"amount": 12000, "collective": choir.slug})
    assert entry.data["reason"] == "Was for the choir" and entry.data["corrected_order_id"] == corrected.id


def test_editing_funds_of_a_closed_month_lands_the_correction_on_todays_date(world):
    host, user, rowers, _ = world
    original = add(host, user, rowers, cleared_at=OCT_3)
    periods.close_month(host, user, "2026-10")

    corrected = service.edit_funds(host, user, original.id, reason="Typo", amount=9000)

    today = datetime(2026, 11, 20, tzinfo=timezone.utc)
    assert {r.cleared_at for r in rows_of(order_id=original.id, is_refund=True)} == {today}
    assert {r.cleared_at for r in rows_of(order_id=corrected.id)} == {today}
    with pytest.raises(FundsError, match="October 2026 is closed"):
        service.edit_funds(host, user, corrected.id, reason="back", cleared_at=OCT_3)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "funds.edit"))
    assert entry.before == {"amount": 10000, "cleared_at": OCT_3.isoformat()}
    assert entry.after == {"amount": 9000, "cleared_at": today.isoformat()}


def test_an_edit_that_changes_nothing_is_refused_even_in_a_closed_month(world):
    host, user, rowers, _ = world
    original = add(host, user, rowers, cleared_at=OCT_3)
    periods.close_month(host, user, "2026-10")
    with pytest.raises(FundsError, match="nothing to change"):
        service.edit_funds(host, user, original.id, reason="Typo", amount=10000, collective=rowers)
    assert original.status == "PAID" and len(rows_of(order_id=original.id)) == 4


def test_edit_moves_the_bank_line_link_to_the_corrected_funds(world):
    host, user, rowers, choir = world
    row = make_import_row(make_import(host), amount=10000, date=date(2026, 11, 4))
    db.session.commit()
    triage.add_funds(host, user, row, collective=rowers, new_contributor={"name": "Ann"})
    original = db.session.get(Order, row.order_id)

    corrected = service.edit_funds(host, user, original.id, reason="Choir's money", collective=choir)

    db.session.refresh(row)
    assert (row.status, row.order_id, row.collective_id) == ("LINKED", corrected.id, choir.id)
    assert row.ledger_group_id == rows_of(order_id=corrected.id)[0].group_id
    assert {r.cleared_at for r in rows_of(order_id=corrected.id)} == {cleared.start_of_day(host, row.date)}


def test_a_failure_between_the_reversal_and_the_recreate_writes_nothing(world):
    host, user, rowers, _ = world
    original = add(host, user, rowers)
    before = (count(LedgerTransaction), count(Order), count(AuditEntry))
    # A real database failure on the corrected order's INSERT, after the reversal rows were flushed.
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(
            "CREATE OR REPLACE FUNCTION inject_failure() RETURNS trigger AS $$ BEGIN IF NEW.description = 'explode'"
            " THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END; $$ LANGUAGE plpgsql"))
        db.session.execute(text("CREATE TRIGGER inject_failure BEFORE INSERT ON orders FOR EACH ROW"
                                " EXECUTE FUNCTION inject_failure()"))
    else:
        db.session.execute(text("CREATE TRIGGER inject_failure BEFORE INSERT ON orders"
                                " WHEN NEW.description = 'explode' BEGIN SELECT RAISE(ABORT, 'injected failure'); END"))
    db.session.commit()
    try:
        with pytest.raises(Exception, match="injected failure"):
            service.edit_funds(host, user, original.id, reason="Typo", description="explode")
        assert (count(LedgerTransaction), count(Order), count(AuditEntry)) == before
        db.session.refresh(original)
        assert original.status == "PAID" and "replaced_by_order_id" not in original.data
        assert balance(host, rowers) == 9200
    finally:
        db.session.rollback()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("DROP TRIGGER inject_failure ON orders"))
            db.session.execute(text("DROP FUNCTION inject_failure()"))
        else:
            db.session.execute(text("DROP TRIGGER inject_failure"))
        db.session.commit()


def test_edit_refusals_write_nothing(world):
    host, user, rowers, choir = world
    original = add(host, user, rowers)
    for kwargs, message in [({"reason": " "}, "say why"),
                            ({"reason": "same", "amount": 10000, "collective": rowers}, "nothing to change"),
                            ({"reason": "r", "amount": 0}, "positive whole number")]:
        with pytest.raises(FundsError, match=message):
            service.edit_funds(host, user, original.id, **kwargs)
    corrected = service.edit_funds(host, user, original.id, reason="r", description="Fair cheque")
    with pytest.raises(FundsError, match=f"was replaced by #{corrected.id}"):
        service.edit_funds(host, user, original.id, reason="again", amount=5)
    with pytest.raises(FundsError, match="no contribution #999"):
        service.edit_funds(host, user, 999, reason="r", amount=5)
    assert count(Order) == 2


def test_revert_is_all_or_nothing_and_refuses_replaced_or_already_reverted_funds(world):
    host, user, rowers, choir = world
    first, second = add(host, user, rowers), add(host, user, choir, amount=5000)
    replaced = add(host, user, rowers, amount=300)
    service.edit_funds(host, user, replaced.id, reason="r", amount=400)
    before = count(LedgerTransaction)

    with pytest.raises(FundsError, match=f"#{replaced.id} was replaced"):
        service.revert_funds(host, user, [first.id, second.id, replaced.id], reason="Bounced")
    assert count(LedgerTransaction) == before and first.status == "PAID"

    done = service.revert_funds(host, user, [second.id, first.id, first.id], reason="Bounced")

    assert [d.order.id for d in done] == [first.id, second.id]
    assert first.status == second.status == "REFUNDED"
    assert {r.correction for r in rows_of(order_id=first.id, is_refund=True)} == {"REVERT"}
    assert balance(host, choir) == 0 and balance(host, rowers) == 400 - 32
    with pytest.raises(FundsError, match="already reverted"):
        service.revert_funds(host, user, [first.id], reason="again")
    with pytest.raises(FundsError, match="a reason is required"):
        service.revert_funds(host, user, [replaced.data["replaced_by_order_id"]], reason=" ")


def test_reverting_funds_linked_to_a_bank_line_sends_the_line_back_to_do(world):
    host, user, rowers, _ = world
    row = make_import_row(make_import(host), amount=2500, date=date(2026, 11, 4))
    db.session.commit()
    triage.add_funds(host, user, row, collective=rowers, new_contributor={"name": "Ann"})

    service.revert_funds(host, user, [row.order_id], reason="Wrong deposit")

    db.session.refresh(row)
    assert (row.status, row.order_id, row.ledger_group_id) == ("PENDING", None, None)


def test_balances_by_effective_date_include_the_whole_day_in_the_hosts_zone(world):
    host, user, rowers, choir = world
    host.timezone = "America/New_York"
    db.session.commit()
    # 03:00 UTC on 4 November is still 3 November in New York.
    add(host, user, rowers, amount=1000, cleared_at=datetime(2026, 11, 4, 3, tzinfo=timezone.utc))
    add(host, user, rowers, amount=2000, cleared_at=datetime(2026, 11, 4, 6, tzinfo=timezone.utc))

    def on(day):
        return {b.account.slug: b.balance for b in collectives.balances_at(host, day)}

    assert on(date(2026, 11, 2)) == {choir.slug: 0, rowers.slug: 0}
    assert on(date(2026, 11, 3)) == {choir.slug: 0, rowers.slug: 920}
    assert on(None) == {choir.slug: 0, rowers.slug: 920 + 1840}


def test_adding_funds_is_written_to_the_audit_log_with_what_was_added(world):
    host, user, rowers, _ = world
    order = add(host, user, rowers, contributor_name="Ann Lee")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.object_id == order.id))
    assert (entry.action, entry.after["amount"], entry.after["cleared_at"]) == ("funds.add", 10000,
                                                                                NOV_3.isoformat())
    assert entry.after["contributor"] == "Ann Lee"


def test_an_edit_can_change_only_the_contributor_by_name_and_reuses_a_known_one(world):
    host, user, rowers, _ = world
    original = add(host, user, rowers, contributor_name="Ann Lee")
    known = add(host, user, rowers, contributor_name="Bo Chan").from_account
    corrected = service.edit_funds(host, user, original.id, reason="Was Bo", contributor_name="  bo chan ")
    assert corrected.from_account_id == known.id and corrected.amount == 10000
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "funds.edit"))
    assert (entry.before, entry.after) == ({"contributor": "Ann Lee"}, {"contributor": "Bo Chan"})
    again = service.edit_funds(host, user, corrected.id, reason="A stranger", contributor_name="Cy Dee")
    assert again.from_account.name == "Cy Dee" and again.from_account_id not in (known.id, original.from_account_id)


@pytest.mark.parametrize("name", ["ann lee", "  ANN LEE  ", ""])
def test_the_same_contributor_in_another_case_or_no_name_is_nothing_to_change(world, name):
    host, user, rowers, _ = world
    original = add(host, user, rowers, contributor_name="Ann Lee")
    with pytest.raises(FundsError, match="nothing to change"):
        service.edit_funds(host, user, original.id, reason="same", contributor_name=name)


def test_a_contributor_or_description_longer_than_its_column_compares_as_stored(world):
    host, user, rowers, _ = world
    original = add(host, user, rowers, contributor_name="A" * 201, description="D" * 501)
    assert (original.from_account.name, original.description) == ("A" * 199 + "…", "D" * 499 + "…")
    # Cut to the columns' 200 and 500 characters as when they were added, they are the stored values.
    with pytest.raises(FundsError, match="nothing to change"):
        service.edit_funds(host, user, original.id, reason="same", contributor_name="A" * 201)
    with pytest.raises(FundsError, match="nothing to change"):
        service.edit_funds(host, user, original.id, reason="same", description="D" * 501)


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_an_edit_or_revert_without_a_reason_is_refused(world, reason):
    host, user, rowers, _ = world
    original = add(host, user, rowers)
    with pytest.raises(FundsError, match="a reason is required"):
        service.edit_funds(host, user, original.id, reason=reason, amount=5)
    with pytest.raises(FundsError, match="a reason is required"):
        service.revert_funds(host, user, [original.id], reason=reason)


def test_a_reason_is_kept_up_to_2000_characters(world):
    host, user, rowers, _ = world
    original = add(host, user, rowers)
    service.edit_funds(host, user, original.id, reason="r" * 2001, amount=5)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "funds.edit"))
    assert len(entry.data["reason"]) == 2000


def test_funds_made_from_a_bank_line_and_corrected_are_still_refunded_when_the_line_is_unlinked(world):
    # Added funds made from a bank line never existed apart from it (imports.service): an unlink refunds them,
    # and so it must the corrected funds, which carry the line's id on.
    host, user, rowers, choir = world
    row = make_import_row(make_import(host), amount=10000, date=date(2026, 11, 4))
    db.session.commit()
    triage.add_funds(host, user, row, collective=rowers, new_contributor={"name": "Ann"})
    original = db.session.get(Order, row.order_id)
    corrected = service.edit_funds(host, user, original.id, reason="Choir's money", collective=choir)
    assert corrected.data["import_row_id"] == row.id
    db.session.refresh(row)
    triage.unlink(host, user, row, "wrong line")
    assert db.session.get(Order, corrected.id).status == "REFUNDED" and balance(host, choir) == 0


def test_an_edit_records_on_both_orders_which_groups_replaced_and_reversed_what(world):
    host, user, rowers, choir = world
    original = add(host, user, rowers, processor_fee=120)
    corrected = service.edit_funds(host, user, original.id, reason="r", amount=12000)
    reversal_group = rows_of(order_id=original.id, is_refund=True)[0].group_id
    new_group = rows_of(order_id=corrected.id)[0].group_id
    assert corrected.data["group_id"] == new_group
    assert (original.data["processor_fee"], original.data["replaced_by_order_id"]) == (120, corrected.id)
    assert (original.data["replaced_by_group_id"], original.data["reversal_group_id"]) == (new_group, reversal_group)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "funds.edit"))
    assert (entry.data["reversal_group_id"], entry.data["new_group_id"]) == (reversal_group, new_group)
    assert entry.data["reversal_cleared_at"] == NOV_3.isoformat()


def test_a_revert_keeps_its_reason_up_to_2000_characters(world):
    host, user, rowers, _ = world
    original = add(host, user, rowers)
    service.revert_funds(host, user, [original.id], reason="r" * 2001)
    reversal = rows_of(order_id=original.id, is_refund=True)
    assert {r.reason for r in reversal} == {"Revert: " + "r" * 1999 + "…"}


def test_funds_without_a_named_source_come_from_anonymous(world):
    host, user, rowers, _ = world
    assert add(host, user, rowers).from_account.name == "Anonymous"


def refusal(call):
    """The refusal's message and the form field it names."""
    with pytest.raises(FundsError) as refused:
        call()
    return str(refused.value), getattr(refused.value.__cause__, "field", None)


def test_funds_go_only_to_one_of_the_hosts_collectives(world):
    host, user, rowers, _ = world
    lake = make_host(slug="lake")
    theirs = make_collective(lake, "Lake Swimmers")
    from hostadmin.funds import records
    donor = records.party(host, "CONTRIBUTOR", "Donor", field_name="contributor")
    db.session.commit()
    for collective in (None, theirs, donor):
        assert refusal(lambda: add(host, user, collective)) == ("choose one of the host's collectives", "collective")
    assert count(Order) == 0


@pytest.mark.parametrize("description", ["", "   ", None])
def test_funds_need_a_description(world, description):
    host, user, rowers, _ = world
    assert refusal(lambda: add(host, user, rowers, description=description)) == (
        "a description is required", "description")


def test_a_description_is_cut_to_its_500_characters(world):
    host, user, rowers, _ = world
    assert add(host, user, rowers, description="d" * 501).description == "d" * 499 + "…"
    assert add(host, user, rowers, description="d" * 500).description == "d" * 500


@pytest.mark.parametrize("bps,refused", [(-1, True), (0, False), (10000, False), (10001, True)])
def test_the_host_fee_is_between_0_and_100_percent_inclusive(world, bps, refused):
    host, user, rowers, _ = world
    call = lambda: add(host, user, rowers, host_fee_bps=bps)  # noqa: E731
    if refused:
        assert refusal(call) == ("the host fee is a percentage between 0 and 100", "host_fee_percent")
    else:
        assert call().host_fee_bps == bps


@pytest.mark.parametrize("fee", [-1, "5", 1.5])
def test_a_processor_fee_is_a_whole_non_negative_number(world, fee):
    host, user, rowers, _ = world
    assert refusal(lambda: add(host, user, rowers, processor_fee=fee)) == (
        "the processor fee cannot be negative", "processor_fee")


def test_fees_may_take_all_of_the_amount_but_not_more(world):
    host, user, rowers, _ = world
    exactly = add(host, user, rowers, amount=1000, host_fee_bps=5000, processor_fee=500)
    assert balance(host, rowers) == 0 and exactly.status == "PAID"
    assert refusal(lambda: add(host, user, rowers, amount=1000, host_fee_bps=5000, processor_fee=501)) == (
        "the host fee and processor fee are larger than the amount", "processor_fee")


def test_the_audit_entry_of_added_funds_names_their_currency(world):
    host, user, rowers, _ = world
    order = add(host, user, rowers)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.object_id == order.id))
    assert entry.after["currency"] == "USD"
