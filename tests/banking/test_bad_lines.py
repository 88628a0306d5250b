"""One bad bank line must not stop an item's sync: text is cleaned, what still cannot be stored is
recorded invalid on the run, and a run that fails for a lasting reason says so (run, page, banner).

Every test runs on SQLite and on PostgreSQL (where COPY refuses NUL and over-long values).
"""
import http.server
import json
import re
import threading

import pytest
from sqlalchemy import select, text

from hostadmin.banking.models import BankAccount, ItemStatus
from hostadmin.banking.plaid_client import build_client
from hostadmin.banking.sync import sync_item
from hostadmin.extensions import db
from hostadmin.imports.models import ImportRun
from hostadmin.ledger.models import Host
from tests.banking.both_databases import item, sync, sync_app  # noqa: F401 (fixtures)
from tests.banking.helpers import all_rows
from tests.factories import PASSWORD, make_user


def on_the_bank(plaid, item):
    """How many transactions the emulator holds for the item (its history plus what a test added)."""
    return len(plaid.transactions(item.plaid_item_id))


def rows_by_source(item):
    return {row.source_id: row for row in all_rows(item)}


def is_postgres():
    return db.engine.dialect.name == "postgresql"


class Refusals:
    """Real triggers that make the database refuse some writes, the way a constraint we did not foresee would."""

    def __init__(self):
        self.made = []

    def install(self, table, condition, message, events="INSERT OR UPDATE"):
        """Refuse a write of `events` on `table` when `condition` (SQL on NEW) holds."""
        name = f"refuse_{len(self.made)}"
        if is_postgres():
            db.session.execute(text(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF {condition} THEN "
                f"RAISE EXCEPTION '{message}' USING ERRCODE = 'check_violation'; END IF; RETURN NEW; END $$"))
            db.session.execute(text(f"CREATE TRIGGER {name} BEFORE {events} ON {table} "
                                    f"FOR EACH ROW EXECUTE FUNCTION {name}()"))
        else:
            for number, event in enumerate(events.split(" OR ")):
                db.session.execute(text(f"CREATE TRIGGER {name}_{number} BEFORE {event} ON {table} "
                                        f"WHEN {condition} BEGIN SELECT RAISE(ABORT, '{message}'); END"))
        db.session.commit()
        self.made.append((name, table, events))

    def remove_all(self):
        db.session.rollback()
        for name, table, events in self.made:
            if is_postgres():
                db.session.execute(text(f"DROP TRIGGER IF EXISTS {name} ON {table}"))
                db.session.execute(text(f"DROP FUNCTION IF EXISTS {name}()"))
            else:
                for number, _event in enumerate(events.split(" OR ")):
                    db.session.execute(text(f"DROP TRIGGER IF EXISTS {name}_{number}"))
        db.session.commit()
        self.made = []


@pytest.fixture
def refuse(sync_app):
    """A Refusals whose triggers are dropped after the test (PostgreSQL keeps its schema between tests)."""
    refusals = Refusals()
    yield refusals
    refusals.remove_all()


def test_nul_and_control_characters_in_bank_text_are_cleaned_and_every_line_imported(item, plaid):
    before, nul, after = plaid.add_transactions(item.plaid_item_id, specs=[
        {"amount": -10.0, "date": "2026-11-01", "name": "Before"},
        {"amount": -20.0, "date": "2026-11-02", "name": "NUL\u0000inside",
         "merchant_name": "Caf\u0000e\u0007 Bar\u009b"},
        {"amount": -30.0, "date": "2026-11-03", "name": "After\ttab\r\nnewline"}])

    run = sync(item)

    assert (run.outcome, run.added, run.invalid) == ("SUCCEEDED", on_the_bank(plaid, item), 0)
    rows = rows_by_source(item)
    assert (rows[nul].description, rows[nul].merchant_name) == ("NULinside", "Cafe Bar")
    assert rows[after].description == "After tab newline" and rows[before].description == "Before"
    again = sync(item)
    assert (again.outcome, again.added) == ("SUCCEEDED", 0)
    db.session.refresh(item)
    assert item.status == ItemStatus.HEALTHY.value and item.last_sync_error is None


def test_a_line_that_cannot_be_stored_is_recorded_invalid_and_the_rest_imported(item, plaid, sync_app):
    good, huge, odd_currency, also_good = plaid.add_transactions(item.plaid_item_id, specs=[
        {"amount": -10.0, "date": "2026-11-01", "name": "Gift"},
        {"amount": -92233720368547758.07, "date": "2026-11-02", "name": "Huge"},
        {"amount": -5.0, "date": "2026-11-03", "name": "Odd", "iso_currency_code": "NOT-A-CURRENCY-CODE"},
        {"amount": -20.0, "date": "2026-11-04", "name": "Gift 2"}])

    run = sync(item)

    assert (run.outcome, run.added, run.invalid) == ("SUCCEEDED", on_the_bank(plaid, item) - 2, 2)
    reasons = {entry["source_id"]: entry["reason"] for entry in run.invalid_details}
    assert "too large" in reasons[huge] and "currency" in reasons[odd_currency]
    rows = rows_by_source(item)
    assert good in rows and also_good in rows and huge not in rows and odd_currency not in rows
    db.session.refresh(item)
    assert item.cursor is not None and item.status == ItemStatus.HEALTHY.value
    assert (sync(item).added, sync(item).invalid) == (0, 0)  # the cursor moved past them: nothing repeats
    page = admin_web(sync_app, item).get(f"/h/river/connections/{item.id}").get_data(as_text=True)
    assert "2 lines not imported" in page and "2026-11-03 · -5.0 · NOT-A-CURRENCY-CODE · Odd" in page


def test_a_transaction_plaid_sent_in_the_wrong_shape_is_recorded_invalid_not_fatal(item, plaid, sync_app):
    good, broken = plaid.add_transactions(item.plaid_item_id, specs=[
        {"amount": -10.0, "date": "2026-11-01", "name": "Gift"},
        {"amount": -20.0, "date": "2026-11-02", "name": "Broken"}])
    client = sync_app.extensions["plaid"]
    original = client.transactions_sync

    def break_one(request, **kwargs):
        response = original(request, **kwargs)
        response._body = response.data.replace(b'"name":"Broken"', b'"name":["Broken"]')
        return response

    client.transactions_sync = break_one
    run = sync(item)

    assert (run.outcome, run.added, run.invalid) == ("SUCCEEDED", on_the_bank(plaid, item) - 1, 1)
    assert run.invalid_details[0]["source_id"] == broken and "name" in run.invalid_details[0]["reason"]
    rows = rows_by_source(item)
    assert good in rows and broken not in rows


@pytest.mark.parametrize("first_sync", [True, False], ids=["first-sync", "later-sync"])
def test_a_line_the_database_refuses_is_recorded_invalid_with_its_reason(item, plaid, refuse, first_sync):
    if not first_sync:
        plaid.add_transactions(item.plaid_item_id, specs=[{"amount": -1.0, "date": "2026-10-01", "name": "Old"}])
        assert sync(item).outcome == "SUCCEEDED"
    refuse.install("import_rows", "NEW.description = 'POISON'", "poisoned line refused")
    good, poison, also_good = plaid.add_transactions(item.plaid_item_id, specs=[
        {"amount": -10.0, "date": "2026-11-01", "name": "Gift"},
        {"amount": -20.0, "date": "2026-11-02", "name": "POISON"},
        {"amount": -30.0, "date": "2026-11-03", "name": "Gift 2"}])

    new_on_the_bank = on_the_bank(plaid, item) - len(all_rows(item))
    run = sync(item)

    assert (run.outcome, run.added, run.invalid) == ("SUCCEEDED", new_on_the_bank - 1, 1)
    assert run.invalid_details[0]["source_id"] == poison
    assert "poisoned line refused" in run.invalid_details[0]["reason"]
    rows = rows_by_source(item)
    assert good in rows and also_good in rows and poison not in rows


def test_a_change_the_database_refuses_is_recorded_invalid_and_the_other_changes_applied(item, plaid, refuse):
    first, second = plaid.add_transactions(item.plaid_item_id, specs=[
        {"amount": -10.0, "date": "2026-11-01", "name": "Gift"},
        {"amount": -20.0, "date": "2026-11-02", "name": "Gift 2"}])
    sync(item)
    refuse.install("import_rows", "NEW.description = 'POISON'", "poisoned change refused")
    plaid.modify_transaction(first, name="POISON")
    plaid.modify_transaction(second, amount=-25.0)

    run = sync(item)

    assert (run.outcome, run.modified, run.invalid) == ("SUCCEEDED", 1, 1)
    assert "poisoned change refused" in run.invalid_details[0]["reason"]
    rows = rows_by_source(item)
    assert (rows[first].description, rows[second].amount) == ("Gift", 2500)


def test_a_sync_failing_for_a_lasting_reason_is_failed_with_the_error_on_its_page_and_a_banner(
        item, plaid, refuse, sync_app):
    plaid.add_transactions(item.plaid_item_id, count=3, seed=5)
    refuse.install("plaid_items", "NEW.cursor IS NOT NULL", "the cursor cannot be saved", events="UPDATE OF cursor")
    web = admin_web(sync_app, item)

    first = sync(item)
    second = sync(item)

    assert (first.outcome, second.outcome) == ("FAILED", "FAILED")
    db.session.refresh(first)
    assert first.outcome == "FAILED"  # not ABANDONED by the next run
    assert "the cursor cannot be saved" in second.error
    assert db.session.scalar(select(ImportRun.outcome).where(ImportRun.outcome == "RUNNING")) is None
    page = web.get(f"/h/river/connections/{item.id}").get_data(as_text=True)
    assert 'id="sync-failed"' in page and "the cursor cannot be saved" in page
    assert banners(web) == [("SYNC_FAILED", str(item.id))]

    refuse.remove_all()
    assert sync(item).outcome == "SUCCEEDED" and banners(web) == []


def admin_web(app, item):
    """A test client signed in as an admin of the item's host."""
    admin = make_user(db.session.get(Host, item.host_id))
    db.session.commit()
    web = app.test_client()
    assert web.login(admin.email, PASSWORD).status_code == 302
    return web


def banners(web):
    """(kind, item id) of the banners on the host's dashboard."""
    return re.findall(r'data-banner="([A-Z_]+)" data-item="(\d+)"', web.get("/h/river/").get_data(as_text=True))


def test_control_characters_in_account_names_from_plaid_are_cleaned(item, plaid, sync_app):
    new_id = plaid.new_account(item.plaid_item_id)
    plaid.share_accounts(item.plaid_item_id, new_id)
    plaid.add_transactions(item.plaid_item_id, account_id=new_id, specs=[
        {"amount": -10.0, "date": "2026-11-01", "name": "Gift"}])
    client = sync_app.extensions["plaid"]
    original = client.transactions_sync

    def rename(request, **kwargs):
        response = original(request, **kwargs)
        body = json.loads(response.data)
        for account in body["accounts"]:
            if account["account_id"] == new_id:
                account.update(name="Reserve\u0000 fund", official_name="Reserve\u0007 " + "x" * 400,
                               mask="12\u00003", subtype="savings\u0000")
        response._body = json.dumps(body).encode()
        return response

    client.transactions_sync = rename
    run = sync(item)

    assert run.outcome == "SUCCEEDED", run.error
    account = db.session.scalar(select(BankAccount).where(BankAccount.plaid_account_id == new_id))
    assert (account.name, account.mask, account.subtype) == ("Reserve fund", "123", "savings")
    assert len(account.official_name) == 300 and account.official_name.startswith("Reserve x")


class PlaidAnswering:
    """A real HTTP server that answers every Plaid call with one scripted error (as Plaid's API would)."""

    def __init__(self, status, body):
        payload = json.dumps(body).encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server API)
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()


def test_a_plaid_error_with_control_characters_is_recorded_cleaned_on_the_run_and_the_item(item, sync_app):
    error = {"error_type": "ITEM_ERROR", "error_code": "ITEM_LOGIN_REQUIRED\u0000",
             "error_message": "the login details\u0000 of this item have changed\u0007", "display_message": None,
             "request_id": "req-1"}
    with PlaidAnswering(400, error) as plaid_api:
        client = build_client({**sync_app.config, "PLAID_HOST": plaid_api.url})
        db.session.refresh(item)
        run = sync_item(item, client, trigger="test")

    assert (run.outcome, run.error_code) == ("FAILED", "ITEM_LOGIN_REQUIRED")
    assert run.error == "the login details of this item have changed"
    db.session.refresh(item)
    assert (item.status, item.error_message) == ("LOGIN_REQUIRED", "the login details of this item have changed")


def test_a_sync_still_failing_when_its_retries_run_out_is_failed_and_shown(item, plaid, sync_app):
    from hostadmin.banking.jobs import RETRY_DELAYS_SECONDS
    web = admin_web(sync_app, item)
    sync_app.config.update(SYNC_MAX_ATTEMPTS=1)
    plaid.fail_next("/transactions/sync", "INTERNAL_SERVER_ERROR", count=None)  # Plaid keeps failing

    outcomes = [sync(item).outcome for _ in range(len(RETRY_DELAYS_SECONDS) + 1)]

    # The job retries after each of the first runs; after the last scheduled retry it stops, so that
    # run is FAILED (and shown) instead of RETRYING with nothing left to retry it.
    assert outcomes == ["RETRYING"] * len(RETRY_DELAYS_SECONDS) + ["FAILED"]
    assert banners(web) == [("SYNC_FAILED", str(item.id))]
    plaid.clear_faults()
    assert sync(item).outcome == "SUCCEEDED" and banners(web) == []


def test_a_login_failure_shows_its_own_banner_and_none_after_the_login_is_repaired(item, plaid, sync_app):
    web = admin_web(sync_app, item)
    plaid.reset_login(item.plaid_item_id)
    assert sync(item).outcome == "FAILED"
    assert banners(web) == [("LOGIN_REQUIRED", str(item.id))]  # the item's status says it; no second banner

    # LOGIN_REPAIRED (webhook) a minute later: healthy again, the catch-up sync not finished yet.
    sync_app.clock.advance(seconds=60)
    db.session.refresh(item)
    item.status, item.error_code, item.error_message = "HEALTHY", None, None
    item.status_changed_at = sync_app.clock.now
    db.session.commit()
    assert banners(web) == []
