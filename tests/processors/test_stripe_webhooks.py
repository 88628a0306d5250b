"""Stripe webhooks end to end: signed by the stripe library's scheme, stored once, applied by an RQ job."""
import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from hostadmin.extensions import db
from hostadmin.funds import periods
from hostadmin.imports.models import ImportRow, TransactionsImport
from hostadmin.ledger.models import Account, LedgerTransaction, Order
from hostadmin.processors import connections
from hostadmin.processors.models import ProcessorEvent, ProcessorPayment
from hostadmin.webhooks.models import WebhookEvent
from tests.processors.conftest import STRIPE_SECRET, balance_of, events, fresh, work


def rowers(host):
    return db.session.scalar(select(Account).where(Account.host_id == fresh(host).id,
                                                   Account.slug == "river-rowers"))


def ledger_rows():
    db.session.expire_all()
    return db.session.scalars(select(LedgerTransaction).order_by(LedgerTransaction.id)).all()


def at(epoch):
    return datetime.fromtimestamp(epoch, timezone.utc)


def test_charge_succeeded_records_a_paid_contribution_with_its_fee_pair(stripe_host, stripe_sender):
    charge = stripe_sender.charge(amount=5000, fee=175)
    response = stripe_sender.send("charge.succeeded", charge)
    assert response.status_code == 200 and response.get_json()["status"] == "ok"
    assert events()[0].status == "RECEIVED"  # acknowledged before anything is applied
    work()

    order = db.session.scalar(select(Order))
    assert (order.status, order.amount, order.currency, order.from_account.name) == ("PAID", 5000, "USD",
                                                                                     "Ada Lovelace")
    assert order.paid_at == at(charge["created"])
    assert {row.kind for row in ledger_rows()} == {"CONTRIBUTION", "PROCESSOR_FEE"}
    assert {row.cleared_at for row in ledger_rows()} == {at(charge["created"])}
    assert balance_of(stripe_host, rowers(stripe_host)) == 5000 - 175
    payment = db.session.scalar(select(ProcessorPayment))
    assert payment.raw_timestamps == {"created": charge["created"],
                                      "available_on": charge["balance_transaction"]["available_on"]}
    assert (payment.cleared_field, payment.fee, payment.order_id) == ("charge_created", 175, order.id)
    assert events()[0].status == "APPLIED"


def test_the_host_can_choose_the_balance_transactions_available_on_as_cleared_date(stripe_host, stripe_sender):
    connections.set_cleared_field(fresh(stripe_host), "stripe", "available_on")
    charge = stripe_sender.charge(created=stripe_sender.now() - 5 * 86400,
                                  available_on=stripe_sender.now() - 3 * 86400)
    stripe_sender.send("charge.succeeded", charge)
    work()
    assert {row.cleared_at for row in ledger_rows()} == {at(charge["balance_transaction"]["available_on"])}
    assert db.session.scalar(select(ProcessorPayment.cleared_field)) == "available_on"


def test_without_a_balance_transaction_available_on_falls_back_to_the_charge_time(stripe_host, stripe_sender):
    connections.set_cleared_field(fresh(stripe_host), "stripe", "available_on")
    charge = stripe_sender.charge(balance_transaction="txn_later")
    stripe_sender.send("charge.succeeded", charge)
    work()
    assert {row.cleared_at for row in ledger_rows()} == {at(charge["created"])}
    assert db.session.scalar(select(ProcessorPayment.cleared_field)) == "charge_created"


def test_a_redelivered_event_is_acknowledged_and_applied_once(stripe_host, stripe_sender):
    body = stripe_sender.event("charge.succeeded", stripe_sender.charge(), event_id="evt_same")
    assert stripe_sender.post(body, stripe_sender.sign(body)).status_code == 200
    work()
    again = stripe_sender.post(body, stripe_sender.sign(body))
    assert again.status_code == 200 and again.get_json()["status"] == "duplicate"
    work()
    assert db.session.scalar(select(func.count()).select_from(Order)) == 1
    assert [(e.event_id, e.redeliveries) for e in events()] == [("evt_same", 1)]


def test_the_same_charge_under_two_event_types_is_one_contribution(stripe_host, stripe_sender):
    charge = stripe_sender.charge(ref="ch_both")
    intent = {"id": "pi_1", "object": "payment_intent", "amount": 5000, "amount_received": 5000,
              "currency": "usd", "created": charge["created"], "metadata": {"collective": "river-rowers"},
              "latest_charge": charge}
    stripe_sender.send("payment_intent.succeeded", intent)
    stripe_sender.send("charge.succeeded", charge)
    work()
    assert db.session.scalar(select(func.count()).select_from(Order)) == 1
    assert [e.error for e in events()] == ["recorded", "already recorded"]


@pytest.mark.parametrize("collective", ["nobody-here", None])
def test_an_unknown_or_missing_collective_becomes_a_row_in_the_hosts_stripe_import(stripe_host, stripe_sender,
                                                                                   collective):
    charge = stripe_sender.charge(ref="ch_stray", amount=2500, collective=collective)
    stripe_sender.send("charge.succeeded", charge)
    work()
    assert ledger_rows() == []
    imp = db.session.scalar(select(TransactionsImport))
    row = db.session.scalar(select(ImportRow))
    assert (imp.name, imp.source, imp.host_id) == ("Stripe", "STRIPE", stripe_host.id)
    assert (row.source_id, row.amount, row.status, row.currency) == ("ch_stray", 2500, "PENDING", "USD")
    assert row.date == at(charge["created"]).date()
    assert json.loads(row.raw)["timestamps"] == {"created": charge["created"],
                                                 "available_on": charge["balance_transaction"]["available_on"]}


def test_a_full_refund_reverses_the_contribution_and_keeps_stripes_fee(stripe_host, stripe_sender):
    charge = stripe_sender.charge(ref="ch_r", amount=5000, fee=175)
    stripe_sender.send("charge.succeeded", charge)
    work()
    stripe_sender.send("charge.refunded", {**charge, "amount_refunded": 5000, "refunded": True})
    work()
    order = db.session.scalar(select(Order))
    assert order.status == "REFUNDED"
    refunds = [row for row in ledger_rows() if row.is_refund]
    assert len(refunds) == 2 and all(row.refund_of_id for row in refunds)
    assert all(row.cleared_at is not None for row in ledger_rows())
    assert balance_of(stripe_host, rowers(stripe_host)) == -175


def test_partial_refunds_reverse_only_the_newly_refunded_part(stripe_host, stripe_sender):
    charge = stripe_sender.charge(ref="ch_p", amount=5000, fee=0)
    stripe_sender.send("charge.succeeded", charge)
    stripe_sender.send("charge.refunded", {**charge, "amount_refunded": 2000})
    work()
    assert balance_of(stripe_host, rowers(stripe_host)) == 3000
    assert db.session.scalar(select(Order.status)) == "PAID"
    stripe_sender.send("charge.refunded", {**charge, "amount_refunded": 2000})  # the same total again
    work()
    assert balance_of(stripe_host, rowers(stripe_host)) == 3000
    stripe_sender.send("charge.refunded", {**charge, "amount_refunded": 5000})
    work()
    assert balance_of(stripe_host, rowers(stripe_host)) == 0
    assert db.session.scalar(select(Order.status)) == "REFUNDED"
    assert db.session.scalar(select(ProcessorPayment.refunded)) == 5000


def test_a_partial_refund_gives_back_the_host_fee_on_that_part(app, river, stripe_sender):
    river.host_fee_bps = 1000
    db.session.commit()
    connections.configure(river, "stripe", material=STRIPE_SECRET)
    charge = stripe_sender.charge(ref="ch_hf", amount=5000, fee=0)
    stripe_sender.send("charge.succeeded", charge)
    stripe_sender.send("charge.refunded", {**charge, "amount_refunded": 1000})
    work()
    assert balance_of(river, rowers(river)) == (5000 - 500) - (1000 - 100)


def test_a_refund_that_arrives_before_its_charge_waits_and_applies_after_it(stripe_host, stripe_sender):
    charge = stripe_sender.charge(ref="ch_late", amount=5000, fee=100)
    stripe_sender.send("charge.refunded", {**charge, "amount_refunded": 5000})
    work()
    waiting = events()[0]
    assert (waiting.status, waiting.parent_ref) == ("WAITING", "ch_late")
    assert ledger_rows() == []
    stripe_sender.send("charge.succeeded", charge)
    work()
    assert [e.status for e in events()] == ["APPLIED", "APPLIED"]
    assert db.session.scalar(select(Order.status)) == "REFUNDED"
    assert balance_of(stripe_host, rowers(stripe_host)) == -100


def test_without_the_fee_the_contribution_is_gross_now_and_the_fee_is_added_when_known(stripe_host, stripe_sender):
    charge = stripe_sender.charge(ref="ch_fee", amount=5000, balance_transaction="txn_1")
    stripe_sender.send("charge.succeeded", charge)
    work()
    assert balance_of(stripe_host, rowers(stripe_host)) == 5000
    assert db.session.scalar(select(ProcessorPayment.fee)) is None
    transaction = {"id": "txn_1", "object": "balance_transaction", "fee": 175, "currency": "usd",
                   "available_on": charge["created"] + 86400}
    stripe_sender.send("charge.updated", {**charge, "balance_transaction": transaction})
    stripe_sender.send("charge.updated", {**charge, "balance_transaction": transaction})
    work()
    assert balance_of(stripe_host, rowers(stripe_host)) == 5000 - 175
    fee_rows = [row for row in ledger_rows() if row.kind == "PROCESSOR_FEE"]
    assert len(fee_rows) == 2 and {row.cleared_at for row in fee_rows} == {at(charge["created"])}


def test_a_fee_that_arrives_before_its_charge_waits(stripe_host, stripe_sender):
    charge = stripe_sender.charge(ref="ch_fee_first", amount=5000, balance_transaction="txn_2")
    transaction = {"id": "txn_2", "fee": 50, "currency": "usd"}
    stripe_sender.send("charge.updated", {**charge, "balance_transaction": transaction})
    work()
    assert events()[0].status == "WAITING"
    stripe_sender.send("charge.succeeded", charge)
    work()
    assert balance_of(stripe_host, rowers(stripe_host)) == 4950


def test_epoch_milliseconds_are_read_as_the_same_moment(stripe_host, stripe_sender):
    seconds = stripe_sender.now() - 7200
    stripe_sender.send("charge.succeeded", stripe_sender.charge(created=seconds * 1000, available_on=seconds))
    work()
    assert {row.cleared_at for row in ledger_rows()} == {at(seconds)}


@pytest.mark.parametrize("created,message", [(0, "before 2000"), (86_400, "before 2000"),
                                             (None, "future"), ("soon", "whole number")])
def test_an_absurd_charge_date_is_refused_and_nothing_is_written(stripe_host, stripe_sender, created, message):
    created = stripe_sender.now() + 2 * 86400 if created is None else created
    charge = stripe_sender.charge(created=created, balance_transaction=False)
    stripe_sender.send("charge.succeeded", charge)
    work()
    event = events()[0]
    assert event.status == "FAILED" and message in event.error
    assert ledger_rows() == [] and db.session.scalar(select(func.count()).select_from(Order)) == 0


def test_a_charge_in_a_closed_month_is_refused_with_the_reason(stripe_host, stripe_sender, clock):
    periods.close_month(stripe_host, None, "2026-10")
    charge = stripe_sender.charge(created=int(datetime(2026, 10, 30, tzinfo=timezone.utc).timestamp()))
    stripe_sender.send("charge.succeeded", charge)
    work()
    event = events()[0]
    assert event.status == "FAILED" and "October 2026 is closed" in event.error
    assert ledger_rows() == []


def test_event_types_that_move_no_money_are_recorded_only(stripe_host, stripe_sender):
    stripe_sender.send("customer.created", {"id": "cus_1", "object": "customer"})
    work()
    assert (events()[0].status, events()[0].event_type) == ("IGNORED", "customer.created")


# --------------------------------------------------------------------------- forgeries

def rejected():
    db.session.expire_all()
    return db.session.scalars(select(WebhookEvent.rejection_reason).where(WebhookEvent.verified.is_(False))).all()


def test_every_forgery_is_refused_and_stores_nothing_but_a_counted_rejection(stripe_host, stripe_sender):
    body = stripe_sender.event("charge.succeeded", stripe_sender.charge())
    now = stripe_sender.now()
    forgeries = {
        "missing header": stripe_sender.post(body),
        "wrong secret": stripe_sender.post(body, stripe_sender.sign(body, secret="whsec_wrong_" + "1" * 24)),
        "stale": stripe_sender.post(body, stripe_sender.sign(body, timestamp=now - 301)),
        "one byte": stripe_sender.post(body.replace(b'"amount": 5000', b'"amount": 9000'),
                                       stripe_sender.sign(body)),
        "garbage": stripe_sender.post(body, "t=1,v1=nope"),
    }
    assert {name: r.status_code for name, r in forgeries.items()} == {name: 401 for name in forgeries}
    assert events() == [] and ledger_rows() == []
    assert sorted(rejected()) == sorted(["stripe: missing signature header", "stripe: bad signature",
                                         "stripe: stale timestamp", "stripe: bad signature",
                                         "stripe: bad signature"])


def test_a_signed_body_that_is_not_an_event_is_a_400(stripe_host, stripe_sender):
    body = b'{"hello": "world"}'
    assert stripe_sender.post(body, stripe_sender.sign(body)).status_code == 400
    assert events() == []


def test_an_unknown_host_or_one_without_stripe_is_a_404(stripe_host, stripe_sender, river):
    from tests.factories import make_host
    make_host(slug="lake")
    db.session.commit()
    body = stripe_sender.event("charge.succeeded", stripe_sender.charge())
    assert stripe_sender.post(body, stripe_sender.sign(body), host="nowhere").status_code == 404
    assert stripe_sender.post(body, stripe_sender.sign(body), host="lake").status_code == 404
    assert events() == []


def test_a_genuine_event_for_another_hosts_secret_is_refused(stripe_host, stripe_sender):
    from tests.factories import make_host
    lake = make_host(slug="lake")
    db.session.commit()
    connections.configure(lake, "stripe", material="whsec_lake_" + "9" * 24)
    body = stripe_sender.event("charge.succeeded", stripe_sender.charge())
    assert stripe_sender.post(body, stripe_sender.sign(body), host="lake").status_code == 401


def test_a_client_over_its_refusal_allowance_gets_429(app, stripe_host, stripe_sender):
    app.config["WEBHOOK_REFUSALS_PER_CLIENT"] = "3 per minute"
    body = stripe_sender.event("charge.succeeded", stripe_sender.charge())
    statuses = [stripe_sender.post(body, address="203.0.113.7").status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 429, 429]
    assert stripe_sender.post(body, stripe_sender.sign(body), address="203.0.113.8").status_code == 200


@pytest.mark.parametrize("slug", ["a\x00b", "x" * 10_000, "٣", "RIVER", "river%00"])
def test_a_host_slug_that_is_not_a_slug_is_a_404(stripe_host, stripe_sender, slug):
    body = stripe_sender.event("charge.succeeded", stripe_sender.charge())
    assert stripe_sender.post(body, stripe_sender.sign(body), host=slug).status_code == 404


def test_a_payout_is_recorded_as_a_transfer_without_ledger_rows(stripe_host, stripe_sender, client, login_as):
    from hostadmin.auth.models import Role
    from tests.factories import make_user
    arrival = stripe_sender.now() + 86400
    payout = {"id": "po_1", "object": "payout", "amount": 123456, "currency": "usd", "arrival_date": arrival,
              "created": stripe_sender.now()}
    stripe_sender.send("payout.paid", payout)
    stripe_sender.send("payout.paid", payout, event_id="evt_other_delivery_path")
    work()
    assert ledger_rows() == []
    assert [e.error for e in events()] == ["payout recorded (a transfer to the bank: no ledger rows)",
                                           "payout already recorded"]
    payment = db.session.scalar(select(ProcessorPayment))
    assert (payment.kind, payment.amount, payment.cleared_at) == ("PAYOUT", 123456, at(arrival))
    login_as(make_user(fresh(stripe_host), Role.ACCOUNTANT))
    db.session.commit()
    page = client.get("/h/river/processors/").get_data(as_text=True)
    assert "po_1" in page and "$1,234.56" in page


def test_with_redis_down_the_event_is_kept_and_the_safety_net_applies_it_later(app, stripe_host, stripe_sender,
                                                                               monkeypatch):
    from hostadmin.extensions import queues
    from hostadmin.webhooks import service as webhooks
    from tests.webhooks.test_keys import dead_redis

    live = queues._connection
    monkeypatch.setattr(queues, "_connection", dead_redis())
    monkeypatch.setattr("hostadmin.webhooks.flood._Local.minute", None)
    assert stripe_sender.send("charge.succeeded", stripe_sender.charge()).status_code == 200
    assert [(e.status, e.job_id) for e in events()] == [("RECEIVED", None)]
    monkeypatch.setattr(queues, "_connection", live)
    assert webhooks.run_safety_net()["dispatched"] == 1
    work()
    assert events()[0].status == "APPLIED" and db.session.scalar(select(Order.status)) == "PAID"


def test_a_stripe_row_waiting_for_triage_can_be_added_as_funds(stripe_host, stripe_sender, client, login_as):
    from hostadmin.auth.models import Role
    from hostadmin.imports import service as triage
    from tests.factories import make_user
    stripe_sender.send("charge.succeeded", stripe_sender.charge(ref="ch_triage", amount=2500, collective="lost"))
    work()
    host = fresh(stripe_host)
    admin = make_user(host, Role.ADMIN)
    db.session.commit()
    login_as(admin)
    imp = db.session.scalar(select(TransactionsImport))
    assert client.get("/h/river/imports/").status_code == 200
    rows_page = client.get(f"/h/river/imports/{imp.id}/rows")
    assert rows_page.status_code == 200 and "ch_triage" in rows_page.get_data(as_text=True)
    row = db.session.scalar(select(ImportRow))
    triage.add_funds(host, admin, row, collective=rowers(host), new_contributor={"name": "Ada"})
    assert balance_of(host, rowers(host)) == 2500
