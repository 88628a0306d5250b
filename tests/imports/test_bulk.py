"""Bulk actions: one transaction each, skipped rows counted and explained, undoable."""
import pytest

from hostadmin.audit.models import AuditEntry
from hostadmin.imports import bulk, service, undo
from hostadmin.imports.forms import Filters
from hostadmin.imports.models import ImportRow
from hostadmin.imports.service import TriageError
from tests.factories import (
    make_bank_account, make_collective, make_contributor, make_host, make_import, make_import_row, make_user,
)


@pytest.fixture
def world(db):
    host = make_host(slug="river")
    rowers = make_collective(host, "River Rowers")
    account = make_bank_account(host)
    imp = make_import(host, "Checking", bank_account=account)
    admin = make_user(host)
    db.session.commit()
    return host, rowers, imp, admin


def statuses(ids):
    return [
        r.status for r in ImportRow.query.filter(ImportRow.id.in_(ids)).order_by(ImportRow.id)]


def test_bulk_ignore_skips_linked_rows_and_says_so(world):
    host, rowers, imp, admin = world
    rows = [make_import_row(imp, description=f"fee {i}") for i in range(5)]
    linked = make_import_row(imp)
    service.add_funds(host, admin, linked, collective=rowers, contributor=make_contributor(host))
    service.change_status(host, admin, rows[0], "ignore")

    result = bulk.bulk_apply(host, admin, "ignore", row_ids=[r.id for r in rows] + [linked.id])

    assert result.message == "4 rows ignored, 1 skipped because already ignored, 1 skipped because linked"
    assert statuses([r.id for r in rows]) == ["IGNORED"] * 5
    assert linked.status == "LINKED"
    entry = AuditEntry.query.filter_by(action="import_rows.bulk_ignore").one()
    assert entry.data["count"] == 4 and sorted(entry.data["previous"]["PENDING"]) == [r.id for r in rows[1:]]


def test_bulk_on_all_rows_matching_a_filter(world):
    host, rowers, imp, admin = world
    fees = [make_import_row(imp, amount=-150, description="MONTHLY FEE") for _ in range(3)]
    keep = make_import_row(imp, amount=-150, description="Printer")

    result = bulk.bulk_apply(host, admin, "hold", filters=Filters(q="fee"), import_id=imp.id)

    assert result.message == "3 rows put on hold"
    assert statuses([r.id for r in fees]) == ["ON_HOLD"] * 3 and keep.status == "PENDING"


def test_bulk_restore_and_assign(world):
    host, rowers, imp, admin = world
    rows = [make_import_row(imp) for _ in range(3)]
    bulk.bulk_apply(host, admin, "ignore", row_ids=[r.id for r in rows[:2]])
    assert bulk.bulk_apply(host, admin, "restore", row_ids=[r.id for r in rows]).message == \
        "2 rows restored, 1 skipped because already to do"
    result = bulk.bulk_apply(host, admin, "assign", row_ids=[r.id for r in rows], collective=rowers)
    assert result.done == 3 and {r.collective_id for r in ImportRow.query} == {rowers.id}


def test_bulk_never_touches_another_hosts_rows(world):
    host, rowers, imp, admin = world
    lake = make_host(slug="lake")
    theirs = make_import_row(make_import(lake))
    result = bulk.bulk_apply(host, admin, "ignore", row_ids=[theirs.id])
    assert result.done == 0 and theirs.status == "PENDING"


def test_bulk_assign_needs_one_of_the_hosts_collectives(world):
    host, rowers, imp, admin = world
    row = make_import_row(imp)
    with pytest.raises(TriageError):
        bulk.bulk_apply(host, admin, "assign", row_ids=[row.id], collective=make_collective(make_host()))


def test_undo_a_bulk_ignore_puts_each_row_back_to_its_previous_status(world):
    host, rowers, imp, admin = world
    held, todo = make_import_row(imp), make_import_row(imp)
    service.change_status(host, admin, held, "hold")
    bulk.bulk_apply(host, admin, "ignore", row_ids=[held.id, todo.id])

    touched = undo.undo(host, admin, undo.last_undoable(host, admin))

    assert sorted(touched) == sorted([held.id, todo.id])
    assert (held.status, todo.status) == ("ON_HOLD", "PENDING")


def test_undo_of_a_bulk_leaves_rows_changed_since_alone(world):
    host, rowers, imp, admin = world
    a, b = make_import_row(imp), make_import_row(imp)
    bulk.bulk_apply(host, admin, "ignore", row_ids=[a.id, b.id])
    service.change_status(host, admin, b, "hold")
    undo.undo(host, admin, undo.last_undoable(host, admin))  # undoes the hold of b
    bulk_entry = undo.last_undoable(host, admin)
    assert bulk_entry.action == "import_rows.bulk_ignore"
    service.change_status(host, admin, a, "restore")
    service.change_status(host, admin, a, "hold")
    undo.undo(host, admin, bulk_entry)
    assert (a.status, b.status) == ("ON_HOLD", "PENDING")
