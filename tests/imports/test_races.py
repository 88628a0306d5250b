"""Two admins (or a double click) linking at the same moment: PostgreSQL row locks let exactly one win."""
import threading

import pytest

from hostadmin.auth.models import User
from hostadmin.imports import service
from hostadmin.imports.models import ImportRow
from hostadmin.ledger import accounts
from hostadmin.ledger.models import Account, Host, LedgerTransaction, Order
from tests.factories import make_collective, make_contributor, make_host, make_import, make_import_row, make_user

pytestmark = pytest.mark.postgres


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


def test_the_same_row_added_as_funds_twice_at_once_is_linked_once(pg_app):
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

    outcomes = race(pg_app, add_funds)

    assert sorted(outcomes) == ["This row is already linked.", "linked"]
    db.session.expire_all()
    assert Order.query.count() == 1 and LedgerTransaction.query.count() == 2


def test_one_expected_contribution_linked_from_two_rows_at_once_is_paid_once(pg_app):
    from hostadmin.extensions import db
    host = make_host(slug="river")
    order = accounts.create_order(host, contributor=make_contributor(host), collective=make_collective(host),
                                  amount=5000)
    imp = make_import(host)
    rows = [make_import_row(imp, amount=5000), make_import_row(imp, amount=5000)]
    admin = make_user(host)
    db.session.commit()
    queue = [rows[0].id, rows[1].id]

    def link():
        row_id = queue.pop()
        service.link_order(db.session.get(Host, host.id), db.session.get(User, admin.id),
                           db.session.get(ImportRow, row_id), order.id)

    outcomes = race(pg_app, link)

    assert sorted(outcomes) == [f"Order #{order.id} is paid, not expected any more.", "linked"]
    db.session.expire_all()
    assert ImportRow.query.filter_by(status="LINKED").count() == 1
    assert LedgerTransaction.query.filter_by(order_id=order.id).count() == 2
