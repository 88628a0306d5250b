"""Seed a realistic demo host: collectives, contributors, orders, expenses and ledger history.

Deterministic (fixed random seed) and relative to the app clock, so the demo
always shows recent activity. Only the demo has the admin@example.org login.
"""
import random
from contextlib import contextmanager
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from hostadmin.auth.models import Role, User
from hostadmin.auth.service import create_user
from hostadmin.clock import utcnow
from hostadmin.extensions import db
from hostadmin.ledger import accounts, service as ledger
from hostadmin.imports.models import ImportRow, TransactionsImport
from hostadmin.ledger.models import AccountKind, Expense, ExpenseStatus, Host, Order, OrderKind, OrderStatus

DEMO_HOST_SLUG = "demo"
DEMO_ADMIN_EMAIL = "admin@example.org"
DEMO_ACCOUNTANT_EMAIL = "accountant@example.org"
DEMO_PASSWORD = "hostadmin"

COLLECTIVES = ["Open Source Club", "Riverside Food Bank", "Neighbourhood Makerspace",
               "Youth Chess League", "Community Garden Collective"]
CONTRIBUTORS = [("Ada Lovelace", "ada@example.com"), ("Grace Hopper", "grace@example.com"),
                ("Alan Turing", "alan@example.com"), ("Katherine Johnson", "katherine@example.com"),
                ("Tim Berners-Lee", "tim@example.com"), ("Acme Foundation", "grants@acme.example"),
                ("Margaret Hamilton", "margaret@example.com"), ("Local Credit Union", "giving@lcu.example")]
PAYEES = ["City Print Shop", "Hardware Depot", "Cloud Hosting Ltd", "Venue Rentals Co", "Seed Supply"]


class DemoError(RuntimeError):
    """The demo cannot be seeded (for example, it exists already)."""


def database_is_empty():
    """True when no host exists yet: the embedded launcher seeds only then."""
    return db.session.scalar(select(Host.id).limit(1)) is None


def seed_demo():
    """Create the demo host and its history; commit; return the host."""
    if db.session.scalar(select(Host).where(Host.slug == DEMO_HOST_SLUG)):
        raise DemoError("the demo host already exists")
    rng = random.Random(20261122)
    now = utcnow()
    host = accounts.create_host(DEMO_HOST_SLUG, "Demo Fiscal Host", "USD", host_fee_bps=800)
    create_user(DEMO_ADMIN_EMAIL, DEMO_PASSWORD, DEMO_HOST_SLUG, Role.ADMIN, name="Demo Admin")
    create_user(DEMO_ACCOUNTANT_EMAIL, DEMO_PASSWORD, DEMO_HOST_SLUG, Role.ACCOUNTANT,
                name="Demo Accountant")
    admin = db.session.scalar(select(User).where(User.email == DEMO_ADMIN_EMAIL))

    collectives = [accounts.create_account(host, AccountKind.COLLECTIVE, name) for name in COLLECTIVES]
    contributors = [accounts.create_account(host, AccountKind.CONTRIBUTOR, name, email=email)
                    for name, email in CONTRIBUTORS]
    payees = [accounts.create_account(host, AccountKind.PAYEE, name) for name in PAYEES]

    # Four months of received contributions, each cleared a few days after it was promised.
    for _ in range(40):
        promised = now - timedelta(days=rng.randint(5, 120), hours=rng.randint(0, 23))
        cleared = promised + timedelta(days=rng.randint(1, 4))
        kind = OrderKind.ADDED_FUNDS if rng.random() < 0.4 else OrderKind.CONTRIBUTION
        with _clock_at(promised):
            order = accounts.create_order(
                host, contributor=rng.choice(contributors), collective=rng.choice(collectives),
                amount=rng.choice([2500, 5000, 10000, 25000, 50000, 120000]) + rng.randint(0, 99),
                kind=kind, description=rng.choice(["Monthly donation", "Grant instalment",
                                                   "Event ticket sales", "Bank transfer"]),
                created_by=admin)
        with _clock_at(cleared + timedelta(hours=2)):
            ledger.record_order_paid(order, cleared_at=cleared, created_by=admin)

    # Expected contributions still waiting for the bank (to be linked from imports).
    for amount in (15000, 7500, 30000):
        with _clock_at(now - timedelta(days=rng.randint(4, 9))):
            accounts.create_order(host, contributor=rng.choice(contributors), collective=rng.choice(collectives),
                                  amount=amount, description="Pledged transfer", created_by=admin)

    # Expenses: most paid, a few approved and waiting for payment.
    for index in range(14):
        submitted = now - timedelta(days=rng.randint(3, 100))
        collective = rng.choice(collectives)
        with _clock_at(submitted):
            expense = accounts.create_expense(
                host, collective=collective, payee=rng.choice(payees),
                amount=rng.randint(1500, 18000), created_by=admin,
                description=rng.choice(["Printing flyers", "Tools", "Server hosting", "Venue hire",
                                        "Seeds and compost"]))
        if index < 10 and ledger.balances(host, [collective.id])[collective.id] >= expense.amount:
            cleared = submitted + timedelta(days=rng.randint(1, 3))
            with _clock_at(cleared + timedelta(hours=1)):
                ledger.record_expense_paid(expense, cleared_at=cleared, created_by=admin)
    _seed_statement(host, rng, now)
    db.session.commit()
    return host


# Bank lines nothing in the ledger expects: a fee, a cash deposit and a grant to add as funds.
UNEXPECTED_LINES = [(-1500, "MONTHLY SERVICE FEE", 2), (4200, "CASH DEPOSIT BRANCH 114", 6),
                    (25000, "ACH CREDIT ACME FOUNDATION GRANT", 3)]


def _seed_statement(host, rng, now):
    """An uploaded statement to triage: a line for each expected contribution and each approved expense
    (so Link has a suggestion on the first visit), and a few lines nothing expects."""
    imp = TransactionsImport(host_id=host.id, source="CSV", name="Demo checking statement",
                             csv_mapping={"account": "Demo checking ••4821"}, created_at=now)
    db.session.add(imp)
    db.session.flush()
    lines = []
    for order in db.session.scalars(select(Order).where(Order.host_id == host.id,
                                                       Order.status == OrderStatus.PENDING.value)
                                    .order_by(Order.id)):
        day = order.created_at + timedelta(days=rng.randint(1, 3))
        lines.append((order.amount, f"TRANSFER FROM {order.from_account.name.upper()}", day))
    for expense in db.session.scalars(select(Expense).where(Expense.host_id == host.id,
                                                           Expense.status == ExpenseStatus.APPROVED.value)
                                      .order_by(Expense.id)):
        day = min(expense.created_at + timedelta(days=rng.randint(1, 3)), now)
        lines.append((-expense.amount, f"PAYMENT {expense.payee.name.upper()}", day))
    lines += [(amount, text, now - timedelta(days=back)) for amount, text, back in UNEXPECTED_LINES]
    for number, (amount, description, moment) in enumerate(sorted(lines, key=lambda line: line[2]), 1):
        db.session.add(ImportRow(import_id=imp.id, host_id=host.id, source_id=f"demo-statement-{number}",
                                 date=moment.date(), amount=amount, currency=host.currency,
                                 description=description, created_at=now, updated_at=now))


@contextmanager
def _clock_at(moment):
    """Record demo history as if it happened at `moment`."""
    previous = current_app.config.get("CLOCK")
    current_app.config["CLOCK"] = lambda: moment
    try:
        yield
    finally:
        current_app.config["CLOCK"] = previous
