"""Pending -> posted: the posted row carries everything the admin set on the pending one, and the
removed pending copy leaves "To do" (and every other open tab) by itself. SQLite and PostgreSQL."""
import re

from sqlalchemy import select

from hostadmin.extensions import db
from hostadmin.imports import bulk, queries, service
from hostadmin.imports.forms import Filters
from hostadmin.imports.models import ImportRow
from hostadmin.ledger.models import Host
from tests.banking.both_databases import item, sync, sync_app  # noqa: F401 (fixtures)
from tests.factories import PASSWORD, make_collective, make_user


def row_of(source_id):
    return db.session.scalar(select(ImportRow).where(ImportRow.source_id == source_id))


def tab_ids(host, tab):
    return {row.id for row in queries.page_of_rows(host, Filters(status=tab), size=10_000).rows}


def test_posted_rows_inherit_status_note_assignment_hold_and_link_and_the_pending_copies_leave_to_do(
        item, plaid, sync_app):
    host = db.session.get(Host, item.host_id)
    admin, river = make_user(host), make_collective(host, "River Fund")
    db.session.commit()
    assigned, noted, held, linked = plaid.add_transactions(item.plaid_item_id, specs=[
        {"amount": -30.0 - n, "date": "2026-11-15", "name": f"Deposit {n}", "pending": True} for n in range(4)])
    sync(item)
    pending = {name: row_of(source_id) for name, source_id in
               (("assigned", assigned), ("noted", noted), ("held", held), ("linked", linked))}
    bulk.bulk_apply(host, admin, "assign", row_ids=[pending["assigned"].id, pending["noted"].id], collective=river)
    service.set_note(host, admin, pending["noted"], "from the spring appeal")
    service.change_status(host, admin, pending["held"], "hold")
    service.add_funds(host, admin, pending["linked"], collective=river, new_contributor={"name": "Ada"})
    order_id, group_id = pending["linked"].order_id, pending["linked"].ledger_group_id
    before = queries.status_counts(host, Filters())

    plaid.post_pending(assigned, noted, held, linked)
    run = sync(item)

    assert (run.added, run.removed) == (4, 4)
    posted = {name: db.session.scalar(select(ImportRow).where(ImportRow.pending_source_id == row.source_id))
              for name, row in pending.items()}
    assert (posted["assigned"].status, posted["assigned"].collective_id) == ("PENDING", river.id)
    assert (posted["noted"].note, posted["noted"].collective_id) == ("from the spring appeal", river.id)
    assert posted["held"].status == "ON_HOLD"
    assert (posted["linked"].status, posted["linked"].order_id, posted["linked"].ledger_group_id,
            posted["linked"].collective_id) == ("LINKED", order_id, group_id, river.id)
    for row in pending.values():
        db.session.refresh(row)
        assert row.removed_at is not None and not row.needs_review and row.order_id is None

    # The removed pending copies are in "Removed by bank" only; the counts did not grow.
    after = queries.status_counts(host, Filters())
    assert {tab: after[tab] for tab in ("PENDING", "ON_HOLD", "IGNORED", "LINKED")} == \
           {tab: before[tab] for tab in ("PENDING", "ON_HOLD", "IGNORED", "LINKED")}
    assert after["REMOVED"] == before["REMOVED"] + 4 and after["ALL"] == before["ALL"] + 4
    pending_ids = {row.id for row in pending.values()}
    assert not pending_ids & (tab_ids(host, "PENDING") | tab_ids(host, "ON_HOLD") | tab_ids(host, "LINKED"))
    assert pending_ids <= tab_ids(host, "REMOVED") and pending_ids <= tab_ids(host, "ALL")
    assert len(tab_ids(host, "PENDING")) == after["PENDING"] and len(tab_ids(host, "ALL")) == after["ALL"]
    for name in ("assigned", "held"):
        assert posted[name].id in tab_ids(host, "PENDING" if name == "assigned" else "ON_HOLD")

    # On the page: the removed copy offers no triage actions.
    web = sync_app.test_client()
    assert web.login(admin.email, PASSWORD).status_code == 302
    page = web.get("/h/river/imports/rows?status=REMOVED").get_data(as_text=True)
    ghost = re.search(rf'<tbody id="row-{pending["held"].id}".*?</tbody>', page, re.S).group(0)
    assert "/ignore" not in ghost and "/hold" not in ghost and "/restore" not in ghost
    assert "removed by bank" in ghost
    todo = web.get("/h/river/imports/rows?status=PENDING").get_data(as_text=True)
    assert f'id="row-{pending["assigned"].id}"' not in todo and f'id="row-{posted["assigned"].id}"' in todo


def test_a_removed_row_cannot_be_ignored_held_or_restored(item, plaid, sync_app):
    host = db.session.get(Host, item.host_id)
    admin = make_user(host)
    db.session.commit()
    gone, = plaid.add_transactions(item.plaid_item_id, specs=[
        {"amount": -12.0, "date": "2026-11-15", "name": "Card hold", "pending": True}])
    sync(item)
    plaid.remove_transactions(gone)
    sync(item)
    row = row_of(gone)

    for action in ("ignore", "hold"):
        try:
            service.change_status(host, admin, row, action)
        except service.TriageError as error:
            assert "removed" in str(error)
        else:
            raise AssertionError(f"{action} of a removed row was accepted")
    result = bulk.bulk_apply(host, admin, "ignore", row_ids=[row.id])
    assert result.done == 0 and result.skipped == {"removed by the bank": 1}
    db.session.refresh(row)
    assert row.status == "PENDING" and row.id not in tab_ids(host, "PENDING")
