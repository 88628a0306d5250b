"""A hand-computed October for the report tests (host in New York, host fee 8 %)."""
from datetime import datetime, timezone

from hostadmin.extensions import db
from hostadmin.funds import service
from hostadmin.ledger import service as ledger
from hostadmin.ledger.models import Expense, Order
from tests.factories import make_collective, make_contributor, make_host, make_payee, make_user


def utc(*parts):
    return datetime(*parts, tzinfo=timezone.utc)


def add(host, user, collective, amount, cleared_at, **kwargs):
    return service.add_funds(host, user, collective=collective, amount=amount, cleared_at=cleared_at,
                             description=kwargs.pop("description", "Cheque"), **kwargs)


def october_world():
    """The month the tests compute by hand; returns (host, user, rowers, choir, october_added_funds)."""
    host = make_host(slug="river", host_fee_bps=800)
    host.timezone = "America/New_York"
    user = make_user(host)
    rowers, choir = make_collective(host, "River Rowers"), make_collective(host, "Harbour Choir")
    rowers.slug, choir.slug = "rowers", "choir"
    db.session.commit()
    add(host, user, rowers, 50000, utc(2026, 9, 15, 12), host_fee_bps=800)              # opening 460.00
    october = add(host, user, rowers, 10000, utc(2026, 10, 2, 12), host_fee_bps=800, processor_fee=120)
    contribution = Order(host_id=host.id, kind="CONTRIBUTION", status="PENDING",
                         from_account_id=make_contributor(host, "Ann Lee").id, to_account_id=choir.id,
                         amount=5000, currency="USD", description="Monthly gift", host_fee_bps=800)
    db.session.add(contribution)
    db.session.flush()
    ledger.record_order_paid(contribution, cleared_at=utc(2026, 10, 10, 12))
    expense = Expense(host_id=host.id, collective_id=rowers.id, payee_id=make_payee(host, "Oar shop").id,
                      amount=3000, currency="USD", description="Oars")
    db.session.add(expense)
    db.session.flush()
    ledger.record_expense_paid(expense, cleared_at=utc(2026, 10, 20, 12))
    db.session.commit()
    # 23:00 on 31 October in New York is 1 November in UTC: it belongs to October.
    add(host, user, choir, 2000, utc(2026, 11, 1, 3), host_fee_bps=0)
    add(host, user, rowers, 1000, utc(2026, 11, 3, 12), host_fee_bps=0)              # November
    return host, user, rowers, choir, october


# collective, opening, contributions, added_funds, expenses, host_fees, processor_fees, corrections, closing
OCTOBER = [
    ("choir", "0.00", "50.00", "20.00", "0.00", "-4.00", "0.00", "0.00", "66.00", "USD"),
    ("rowers", "460.00", "0.00", "100.00", "-30.00", "-8.00", "-1.20", "0.00", "520.80", "USD"),
    ("TOTAL", "460.00", "50.00", "120.00", "-30.00", "-12.00", "-1.20", "0.00", "586.80", "USD"),
]
