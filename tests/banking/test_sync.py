"""The sync engine against the real emulator through the real plaid-python client."""
import pytest
from sqlalchemy import select, text

from hostadmin.banking.models import ItemStatus
from hostadmin.banking.sync import sync_item
from hostadmin.imports.models import ImportRow, RowStatus
from tests.banking.helpers import active_rows, all_rows, truth


def sync(item, plaid_client, trigger="test"):
    from hostadmin.extensions import db
    db.session.refresh(item)
    return sync_item(item, plaid_client, trigger=trigger)


def test_first_sync_reads_every_page_and_matches_the_bank(app, item, plaid, plaid_client):
    plaid.add_transactions(item.plaid_item_id, count=230, seed=7)
    app.config["SYNC_PAGE_SIZE"] = 50

    run = sync(item, plaid_client)

    assert run.outcome == "SUCCEEDED" and run.pages >= 6
    assert active_rows(item) == truth(plaid, item)
    assert run.added == len(truth(plaid, item)) and run.duplicates == 0
    assert item.cursor and item.last_synced_at is not None


def test_second_sync_resumes_from_the_cursor_and_imports_only_the_news(app, item, plaid, plaid_client):
    sync(item, plaid_client)
    before = len(all_rows(item))
    new_ids = plaid.add_transactions(item.plaid_item_id, count=5, seed=3)

    run = sync(item, plaid_client)

    assert (run.added, run.modified, run.removed) == (5, 0, 0)
    assert len(all_rows(item)) == before + 5
    assert set(new_ids) <= set(active_rows(item))
    nothing = sync(item, plaid_client)
    assert (nothing.added, nothing.modified, nothing.removed, nothing.pages) == (0, 0, 0, 1)


def test_amounts_are_minor_units_positive_for_money_in(app, item, plaid, plaid_client):
    out_id, in_id = plaid.add_transactions(item.plaid_item_id, specs=[
        {"amount": 12.34, "date": "2026-11-10", "name": "Hardware store"},
        {"amount": -50.0, "date": "2026-11-11", "name": "Donation from Ada"},
    ])
    sync(item, plaid_client)

    rows = {row.source_id: row for row in all_rows(item)}
    assert (rows[out_id].amount, rows[out_id].currency) == (-1234, "USD")
    assert rows[in_id].amount == 5000 and rows[in_id].description == "Donation from Ada"


def test_modified_rows_update_untriaged_and_flag_triaged(app, db, item, plaid, plaid_client):
    quiet, triaged = plaid.add_transactions(item.plaid_item_id, specs=[
        {"amount": -10.0, "date": "2026-11-01", "name": "Gift A"},
        {"amount": -20.0, "date": "2026-11-02", "name": "Gift B"}])
    sync(item, plaid_client)
    row = db.session.scalar(select(ImportRow).where(ImportRow.source_id == triaged))
    row.status, row.note = RowStatus.IGNORED.value, "duplicate of cheque 12"
    db.session.commit()

    plaid.modify_transaction(quiet, amount=-11.0)
    plaid.modify_transaction(triaged, amount=-25.0, name="Gift B (corrected)")
    run = sync(item, plaid_client)

    assert run.modified == 2
    rows = {r.source_id: r for r in all_rows(item)}
    assert rows[quiet].amount == 1100 and not rows[quiet].needs_review
    changed = rows[triaged]
    assert (changed.amount, changed.status, changed.note) == (2500, "IGNORED", "duplicate of cheque 12")
    assert changed.needs_review and "Changed by the bank" in changed.review_reason
    assert changed.previous_values[-1]["amount"] == 2000


def test_removed_rows_are_marked_not_deleted_and_linked_ones_flagged(app, db, item, plaid, plaid_client):
    plain, linked = plaid.add_transactions(item.plaid_item_id, specs=[
        {"amount": -10.0, "date": "2026-11-01", "name": "Gift A"},
        {"amount": -20.0, "date": "2026-11-02", "name": "Gift B"}])
    sync(item, plaid_client)
    db.session.execute(text("UPDATE import_rows SET status = 'LINKED' WHERE source_id = :s"), {"s": linked})
    db.session.commit()

    plaid.remove_transactions(plain, linked)
    run = sync(item, plaid_client)

    assert run.removed == 2
    rows = {r.source_id: r for r in all_rows(item)}
    assert rows[plain].removed_at is not None and not rows[plain].needs_review
    assert rows[linked].removed_at is not None and rows[linked].needs_review
    assert plain not in active_rows(item)


def test_pending_to_posted_across_a_page_boundary_inherits_triage(app, db, item, plaid, plaid_client):
    pending_ids = plaid.add_transactions(item.plaid_item_id, specs=[
        {"amount": -30.0, "date": "2026-11-15", "name": f"Transfer {n}", "pending": True} for n in range(4)])
    sync(item, plaid_client)
    first = db.session.scalar(select(ImportRow).where(ImportRow.source_id == pending_ids[0]))
    assert first.pending
    first.status, first.note = RowStatus.ON_HOLD.value, "ask the treasurer"
    db.session.commit()

    posted_ids = plaid.post_pending(*pending_ids)  # 4 removals then 4 adds
    app.config["SYNC_PAGE_SIZE"] = 4  # removals on one page, their posted rows on the next
    run = sync(item, plaid_client)

    assert run.pages >= 2 and (run.added, run.removed) == (4, 4)
    rows = {r.source_id: r for r in all_rows(item)}
    posted = next(rows[p] for p in posted_ids if rows[p].pending_source_id == pending_ids[0])
    assert (posted.pending, posted.status, posted.note) == (False, "ON_HOLD", "ask the treasurer")
    assert rows[pending_ids[0]].removed_at is not None and not rows[pending_ids[0]].needs_review
    assert active_rows(item) == truth(plaid, item)


def test_mutation_during_pagination_restarts_and_keeps_nothing_of_the_abandoned_loop(
        app, item, plaid, plaid_client):
    plaid.add_transactions(item.plaid_item_id, count=40, seed=11)
    app.config["SYNC_PAGE_SIZE"] = 10
    doomed = plaid.add_transactions(item.plaid_item_id, specs=[
        {"amount": -99.0, "date": "2026-08-01", "name": "Will be removed"}])[0]
    calls = []
    original = plaid_client.transactions_sync

    def bank_changes_after_first_page(request, **kwargs):
        calls.append(request.get("cursor"))
        response = original(request, **kwargs)
        if len(calls) == 1:
            plaid.remove_transactions(doomed)  # the log moves under the reader
        return response

    plaid_client.transactions_sync = bank_changes_after_first_page
    run = sync(item, plaid_client)

    assert run.outcome == "SUCCEEDED" and run.restarts == 1
    assert doomed not in active_rows(item)
    assert active_rows(item) == truth(plaid, item)


def test_forced_mutation_error_is_retried_from_the_starting_cursor(app, item, plaid, plaid_client):
    plaid.add_transactions(item.plaid_item_id, count=30, seed=5)
    app.config["SYNC_PAGE_SIZE"] = 10
    plaid.force_mutation(item.plaid_item_id)

    run = sync(item, plaid_client)

    assert run.outcome == "SUCCEEDED" and run.restarts == 1
    assert active_rows(item) == truth(plaid, item)


def test_login_required_sets_item_status_and_stops(app, db, item, plaid, plaid_client):
    plaid.reset_login(item.plaid_item_id)

    run = sync(item, plaid_client)

    assert (run.outcome, run.error_code) == ("FAILED", "ITEM_LOGIN_REQUIRED")
    db.session.refresh(item)
    assert item.status == ItemStatus.LOGIN_REQUIRED.value and item.cursor is None

    plaid.repair_login(item.plaid_item_id)
    assert sync(item, plaid_client).outcome == "SUCCEEDED"
    db.session.refresh(item)
    assert item.status == ItemStatus.HEALTHY.value


@pytest.mark.parametrize("code", ["TRANSACTIONS_SYNC_LIMIT", "INTERNAL_SERVER_ERROR"])
def test_rate_limits_and_server_errors_are_retried_with_backoff(app, item, plaid, plaid_client, code):
    sleeps = []
    app.config.update(SYNC_SLEEP=sleeps.append, SYNC_RETRY_BASE_SECONDS=1)
    plaid.fail_next("/transactions/sync", code, count=2)

    run = sync(item, plaid_client)

    assert run.outcome == "SUCCEEDED" and sleeps == [1, 2]
    assert active_rows(item) == truth(plaid, item)


def test_persistent_errors_leave_the_run_retrying_and_the_cursor_untouched(app, db, item, plaid, plaid_client):
    app.config.update(SYNC_SLEEP=lambda s: None)
    plaid.fail_next("/transactions/sync", "INTERNAL_SERVER_ERROR", count=10)

    run = sync(item, plaid_client)

    assert (run.outcome, run.error_code) == ("RETRYING", "INTERNAL_SERVER_ERROR")
    db.session.refresh(item)
    assert item.cursor is None and item.status == "HEALTHY" and all_rows(item) == []


def test_timeouts_are_retried(app, item, plaid, plaid_client):
    app.config.update(PLAID_TIMEOUT=(2, 0.3), SYNC_SLEEP=lambda s: None)
    plaid.delay_next("/transactions/sync", 1.0, count=1)

    run = sync(item, plaid_client)

    assert run.outcome == "SUCCEEDED"
    assert active_rows(item) == truth(plaid, item)


def test_malformed_response_fails_the_run_clearly_without_retrying(app, db, item, plaid, plaid_client):
    sleeps = []
    app.config.update(SYNC_SLEEP=sleeps.append)
    plaid.malform_next("/transactions/sync", drop_key="next_cursor")

    run = sync(item, plaid_client)

    assert (run.outcome, run.error_code) == ("FAILED", "MALFORMED_RESPONSE")
    assert "next_cursor" in run.error and sleeps == []
    db.session.refresh(item)
    assert item.cursor is None and item.status == "HEALTHY"


def test_transaction_without_any_currency_is_recorded_invalid(app, db, item, plaid, plaid_client):
    from hostadmin.banking.models import BankAccount
    tid = plaid.add_transactions(item.plaid_item_id, specs=[
        {"amount": -5.0, "date": "2026-11-01", "name": "Mystery"}])[0]
    txn = plaid.transactions(item.plaid_item_id)[tid]
    # Make the transaction currency-less at the boundary: drop the account's currency too.
    for account in db.session.scalars(select(BankAccount)):
        account.currency = None
    db.session.commit()
    original = plaid_client.transactions_sync

    def strip_currency(request, **kwargs):
        response = original(request, **kwargs)
        body = response.data.replace(b'"iso_currency_code": "USD"', b'"iso_currency_code": null') \
            .replace(b'"iso_currency_code":"USD"', b'"iso_currency_code":null')
        response._body = body
        return response

    plaid_client.transactions_sync = strip_currency
    run = sync(item, plaid_client)

    assert run.outcome == "SUCCEEDED" and run.invalid >= 1
    assert {"source_id": txn["transaction_id"], "reason": "no currency on the transaction or its account"} \
        in [{key: entry[key] for key in ("source_id", "reason")} for entry in run.invalid_details]
    assert tid not in active_rows(item)


def test_access_token_is_encrypted_at_rest(app, db, item, plaid):
    access_token = plaid.emulator.item(item.plaid_item_id)["access_token"]
    stored = db.session.execute(text("SELECT access_token_encrypted FROM plaid_items")).scalar_one()
    assert access_token.encode() not in bytes(stored)
    dump = " ".join(str(v) for row in db.session.execute(text("SELECT * FROM plaid_items")) for v in row)
    assert access_token not in dump
