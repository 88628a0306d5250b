"""Two admins (or a double click, or four tabs) acting on the same money at the same moment: exactly one wins.

A conditional UPDATE whose row count decides (not a read, then a write) makes this hold on SQLite as on PostgreSQL.
"""
import re
import threading

import pytest

from hostadmin.auth.models import User
from hostadmin.imports import service
from hostadmin.imports.models import ImportRow
from hostadmin.ledger import accounts
from hostadmin.ledger.models import Account, Host, LedgerTransaction, Order
from hostadmin.ledger.service import balances
from tests.factories import (
    PASSWORD, make_collective, make_contributor, make_host, make_import, make_import_row, make_payee, make_user,
)


@pytest.fixture(params=["sqlite", "postgres"])
def any_app(request):
    """The app on the default database (a SQLite file unless TEST_DATABASE_URL), then on PostgreSQL."""
    return request.getfixturevalue("app" if request.param == "sqlite" else "pg_app")


def race(app, action, times=2):
    """Run `action()` in `times` threads, each with its own app context and session; returns outcomes."""
    from hostadmin.extensions import db

    barrier, outcomes = threading.Barrier(times), []

    def worker():
        with app.app_context():
            barrier.wait()
            try:
                action()
                outcomes.append("linked")
            except service.TriageError as error:
                outcomes.append(str(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


def test_the_same_row_added_as_funds_twice_at_once_is_linked_once(any_app):
    from hostadmin.extensions import db
    host = make_host(slug="river")
    rowers, donor = make_collective(host), make_contributor(host)
    row = make_import_row(make_import(host), amount=8000)
    admin = make_user(host)
    db.session.commit()
    ids = (host.id, admin.id, row.id, rowers.id, donor.id)

    def add_funds():
        h, u, r, c, d = (db.session.get(model, i) for model, i in zip((Host, User, ImportRow, Account, Account), ids))
        service.add_funds(h, u, r, collective=c, contributor=d)

    outcomes = race(any_app, add_funds)

    assert sorted(outcomes) == ["This row is already linked.", "linked"]
    db.session.expire_all()
    assert Order.query.count() == 1 and LedgerTransaction.query.count() == 2


def test_one_expected_contribution_linked_from_two_rows_at_once_is_paid_once(any_app):
    from hostadmin.extensions import db
    host = make_host(slug="river")
    order = accounts.create_order(host, contributor=make_contributor(host), collective=make_collective(host),
                                  amount=5000)
    imp = make_import(host)
    rows = [make_import_row(imp, amount=5000), make_import_row(imp, amount=5000)]
    admin = make_user(host)
    db.session.commit()
    queue, host_id, admin_id, order_id = [rows[0].id, rows[1].id], host.id, admin.id, order.id

    def link():
        row_id = queue.pop()
        service.link_order(db.session.get(Host, host_id), db.session.get(User, admin_id),
                           db.session.get(ImportRow, row_id), order_id)

    outcomes = race(any_app, link)

    assert sorted(outcomes) == [f"Order #{order.id} is paid, not expected any more.", "linked"]
    db.session.expire_all()
    assert ImportRow.query.filter_by(status="LINKED").count() == 1
    assert LedgerTransaction.query.filter_by(order_id=order.id).count() == 2


# --------------------------------------------------------------------------- over HTTP

def http_race(app, user, requests):
    """Sign in one test client per request, then send all `(path, form)` at the same moment.

    Each client runs in its own thread with its own request context and database session,
    as concurrent browser tabs or gunicorn threads would. Returns the responses' statuses and bodies.
    """
    email, barrier, results = user.email, threading.Barrier(len(requests)), [None] * len(requests)

    def send(index):
        # Sign in inside the thread: requests on the test's own thread share its app context (and `g`).
        client, (path, form) = app.test_client(), requests[index]
        try:
            assert client.login(email, PASSWORD).status_code == 302
            token = client.csrf_token("/")
        finally:
            barrier.wait()
        try:
            response = client.post(path, data=form, headers={"HX-Request": "true", "X-CSRFToken": token})
            results[index] = (response.status_code, response.get_data(as_text=True))
        except Exception as error:  # TESTING propagates a server error: count it as the 500 it would be
            results[index] = (500, repr(error))

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def refusal(body):
    """The error text a refused row action shows."""
    match = re.search(r'role="alert"[^>]*>\s*([^<]+?)\s*<', body)
    return match.group(1) if match else body[:300]


def test_four_deposits_linked_to_one_order_at_once_pay_it_once(any_app):
    from hostadmin.extensions import db
    host = make_host(slug="river", host_fee_bps=1000)
    rowers = make_collective(host)
    order = accounts.create_order(host, contributor=make_contributor(host), collective=rowers, amount=15000)
    imp = make_import(host)
    rows = [make_import_row(imp, amount=15000) for _ in range(4)]
    admin = make_user(host)
    db.session.commit()

    results = http_race(any_app, admin, [(f"/h/river/imports/row/{row.id}/link", {"target_id": str(order.id)})
                                         for row in rows])

    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 409, 409, 409], [refusal(body) for _, body in results]
    assert {refusal(body) for status, body in results if status == 409} == {
        f"Order #{order.id} is paid, not expected any more."}
    db.session.expire_all()
    assert LedgerTransaction.query.filter_by(order_id=order.id).count() == 4  # contribution + host fee
    assert ImportRow.query.filter_by(status="LINKED").count() == 1
    assert balances(host)[rowers.id] == 15000 - 1500


def test_four_withdrawals_linked_to_one_expense_at_once_pay_it_once(any_app):
    from hostadmin.extensions import db
    host = make_host(slug="river")
    rowers = make_collective(host)
    expense = accounts.create_expense(host, collective=rowers, payee=make_payee(host), amount=15000)
    imp = make_import(host)
    rows = [make_import_row(imp, amount=-15000) for _ in range(4)]
    admin = make_user(host)
    db.session.commit()

    results = http_race(any_app, admin, [(f"/h/river/imports/row/{row.id}/link",
                                          {"target_id": str(expense.id)}) for row in rows])

    assert sorted(status for status, _ in results) == [200, 409, 409, 409], [refusal(b) for _, b in results]
    assert {refusal(body) for status, body in results if status == 409} == {
        f"Expense #{expense.id} is paid, not waiting for payment."}
    db.session.expire_all()
    assert LedgerTransaction.query.filter_by(expense_id=expense.id).count() == 2
    assert balances(host)[rowers.id] == -15000


def test_one_row_unlinked_four_times_at_once_is_reversed_once(any_app):
    from hostadmin.extensions import db
    host = make_host(slug="river")
    rowers = make_collective(host)
    order = accounts.create_order(host, contributor=make_contributor(host), collective=rowers, amount=15000)
    row = make_import_row(make_import(host), amount=15000)
    admin = make_user(host)
    db.session.commit()
    service.link_order(host, admin, row, order.id)

    results = http_race(any_app, admin, [(f"/h/river/imports/row/{row.id}/unlink", {"reason": "wrong line"})] * 4)

    assert sorted(status for status, _ in results) == [200, 409, 409, 409], [refusal(b) for _, b in results]
    assert {refusal(body) for status, body in results if status == 409} == {"This row is not linked."}
    db.session.expire_all()
    assert LedgerTransaction.query.filter_by(is_refund=True).count() == 2
    assert balances(host)[rowers.id] == 0
    assert db.session.get(Order, order.id).status == "PENDING"


def test_one_deposit_added_as_funds_four_times_at_once_is_added_once(any_app):
    from hostadmin.extensions import db
    host = make_host(slug="river")
    rowers, donor = make_collective(host), make_contributor(host)
    row = make_import_row(make_import(host), amount=15000)
    admin = make_user(host)
    db.session.commit()

    results = http_race(any_app, admin, [(f"/h/river/imports/row/{row.id}/add-funds",
                                          {"collective": str(rowers.id), "contributor": str(donor.id)})] * 4)

    assert sorted(status for status, _ in results) == [200, 409, 409, 409], [refusal(b) for _, b in results]
    db.session.expire_all()
    assert Order.query.count() == 1 and balances(host)[rowers.id] == 15000


def test_a_link_and_a_bulk_ignore_of_the_same_row_at_once_do_not_both_apply(any_app):
    from hostadmin.extensions import db
    host = make_host(slug="river")
    rowers = make_collective(host)
    order = accounts.create_order(host, contributor=make_contributor(host), collective=rowers, amount=15000)
    imp = make_import(host)
    row = make_import_row(imp, amount=15000)
    admin = make_user(host)
    db.session.commit()

    results = http_race(any_app, admin, [
        (f"/h/river/imports/row/{row.id}/link", {"target_id": str(order.id)}),
        (f"/h/river/imports/{imp.id}/bulk", {"action": "ignore", "row": str(row.id)}),
    ])

    db.session.expire_all()
    stored = db.session.get(ImportRow, row.id)
    linked = results[0][0] == 200
    assert stored.status == ("LINKED" if linked else "IGNORED"), results
    assert LedgerTransaction.query.count() == (2 if linked else 0)
    assert ("1 skipped because linked" if linked else "1 row ignored") in results[1][1]


def test_a_bulk_ignore_leaves_rows_changed_between_its_read_and_its_write_and_says_so(any_app):
    from sqlalchemy import event, text

    from hostadmin.extensions import db
    from hostadmin.imports import bulk
    host = make_host(slug="river")
    imp = make_import(host)
    linked_meanwhile, held_meanwhile, untouched = (make_import_row(imp) for _ in range(3))
    admin = make_user(host)
    db.session.commit()
    fired = []

    def another_admin_acts_first(conn, cursor, statement, parameters, context, executemany):
        # Just before the bulk UPDATE: another connection commits a link and a hold on two of the rows.
        if statement.lstrip().upper().startswith("UPDATE IMPORT_ROWS") and not fired:
            fired.append(True)
            with db.engine.connect() as other:
                other.execute(text("UPDATE import_rows SET status='LINKED' WHERE id=:id"), {"id": linked_meanwhile.id})
                other.execute(text("UPDATE import_rows SET status='ON_HOLD' WHERE id=:id"), {"id": held_meanwhile.id})
                other.commit()

    ids = [linked_meanwhile.id, held_meanwhile.id, untouched.id]
    event.listen(db.engine, "before_cursor_execute", another_admin_acts_first)
    try:
        result = bulk.bulk_apply(host, admin, "ignore", row_ids=ids)
    finally:
        event.remove(db.engine, "before_cursor_execute", another_admin_acts_first)

    assert result.message == "1 row ignored, 1 skipped because changed meanwhile, 1 skipped because linked"
    assert [db.session.get(ImportRow, i).status for i in ids] == ["LINKED", "ON_HOLD", "IGNORED"]
    assert result.row_ids == [untouched.id]


def test_one_ledger_group_reversed_twice_at_once_is_reversed_once(any_app):
    from hostadmin.extensions import db
    from hostadmin.ledger import service as ledger
    host = make_host(slug="river")
    order = accounts.create_order(host, contributor=make_contributor(host), collective=make_collective(host),
                                  amount=15000)
    group_id = ledger.record_order_paid(order, cleared_at=any_app.clock.now)[0].group_id
    db.session.commit()
    host_id, barrier, outcomes = host.id, threading.Barrier(2), []

    def reverse():
        with any_app.app_context():
            try:
                barrier.wait()
                ledger.reverse_group(db.session.get(Host, host_id), group_id, reason="duplicate")
                db.session.commit()
                outcomes.append("reversed")
            except ledger.LedgerError as error:
                db.session.rollback()
                outcomes.append(str(error))
            except Exception as error:  # what the caller would turn into a 500
                outcomes.append(repr(error)[:200])
            finally:
                db.session.remove()

    threads = [threading.Thread(target=reverse) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sorted(outcomes) == [f"ledger group {group_id} was already reversed", "reversed"]
    db.session.expire_all()
    assert LedgerTransaction.query.filter_by(is_refund=True).count() == 2


def test_two_deposits_added_as_funds_from_one_new_contributor_at_once_both_succeed(any_app):
    from hostadmin.extensions import db
    host = make_host(slug="river")
    rowers = make_collective(host)
    imp = make_import(host)
    rows = [make_import_row(imp, amount=15000), make_import_row(imp, amount=2500)]
    admin = make_user(host)
    db.session.commit()

    results = http_race(any_app, admin, [(f"/h/river/imports/row/{row.id}/add-funds",
                                          {"collective": str(rowers.id), "new_name": "Ada Lovelace"})
                                         for row in rows])

    assert [status for status, _ in results] == [200, 200], [refusal(body) for _, body in results]
    db.session.expire_all()
    assert sorted(a.slug for a in Account.query.filter_by(kind="CONTRIBUTOR")) == ["ada-lovelace", "ada-lovelace-2"]
    assert balances(host)[rowers.id] == 17500


def test_added_funds_reverted_from_two_tabs_at_once_are_reverted_once(any_app):
    from hostadmin.extensions import db
    from hostadmin.funds import service as funds
    host = make_host(slug="river")
    rowers, admin = make_collective(host), make_user(host)
    db.session.commit()
    order = funds.add_funds(host, admin, collective=rowers, amount=10000, cleared_at=any_app.clock.now,
                            description="Cheque from the fair", contributor_name="Ada")
    form = {"order": f"{order.id}:{order.version}", "reason": "Bounced"}

    results = http_race(any_app, admin, [("/h/river/funds/revert", form)] * 2)

    assert sorted(status for status, _ in results) == [302, 409], [body[:300] for _, body in results]
    assert "changed by someone else meanwhile" in next(body for status, body in results if status == 409)
    db.session.expire_all()
    assert LedgerTransaction.query.filter_by(order_id=order.id, is_refund=True).count() == 2  # one pair
    assert balances(host)[rowers.id] == 0
