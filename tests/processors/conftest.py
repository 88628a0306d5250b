"""Processor test fixtures: a host with a collective, Stripe connected, and a sender that signs like Stripe."""
import json
from itertools import count

import pytest
from rq import SimpleWorker
from sqlalchemy import select
from stripe import WebhookSignature

from hostadmin.extensions import db, queues
from hostadmin.ledger import service as ledger
from hostadmin.processors import connections
from hostadmin.processors.models import ProcessorEvent
from tests.factories import make_collective, make_host

STRIPE_SECRET = "whsec_test_river_" + "0" * 24
_serial = count(1)


def work():
    """Run the default queue's jobs to completion in this process (a real RQ worker, burst mode)."""
    SimpleWorker([queues.get("default")], connection=queues.connection).work(burst=True)
    db.session.remove()


@pytest.fixture
def river(app):
    host = make_host(slug="river", name="River Host")
    make_collective(host, "River Rowers")  # slug river-rowers
    db.session.commit()
    return host


@pytest.fixture
def stripe_host(river):
    connections.configure(river, "stripe", material=STRIPE_SECRET)
    return river


class StripeSender:
    """Builds Stripe events and posts them with a Stripe-Signature made by the stripe library itself."""

    def __init__(self, client, clock):
        self.client, self.clock = client, clock

    def now(self):
        return int(self.clock().timestamp())

    def charge(self, ref=None, amount=5000, collective="river-rowers", fee=150, created=None,
               available_on=None, balance_transaction=True, **fields):
        created = self.now() - 3600 if created is None else created
        charge = {"id": ref or f"ch_{next(_serial)}", "object": "charge", "amount": amount, "amount_refunded": 0,
                  "currency": "usd", "created": created, "description": "Donation", "paid": True,
                  "status": "succeeded", "billing_details": {"name": "Ada Lovelace"},
                  "metadata": {"collective": collective} if collective is not None else {}}
        if balance_transaction is True:
            charge["balance_transaction"] = {
                "id": f"txn_{next(_serial)}", "object": "balance_transaction", "amount": amount, "fee": fee,
                "currency": "usd", "available_on": available_on or created + 2 * 86400}
        elif balance_transaction:
            charge["balance_transaction"] = balance_transaction
        charge.update(fields)
        return charge

    def event(self, kind, obj, event_id=None):
        return json.dumps({"id": event_id or f"evt_{next(_serial)}", "object": "event", "type": kind,
                           "api_version": "2026-10-29", "created": self.now(), "livemode": False,
                           "data": {"object": obj}}).encode()

    def sign(self, body, secret=STRIPE_SECRET, timestamp=None):
        return WebhookSignature.generate_signature_header(body.decode(), secret,
                                                          timestamp=self.now() if timestamp is None else timestamp)

    def post(self, body, signature=None, host="river", address="127.0.0.1", headers=None):
        sent = {"Content-Type": "application/json", **(headers or {})}
        if signature is not None:
            sent["Stripe-Signature"] = signature
        return self.client.post(f"/webhooks/stripe/{host}", data=body, headers=sent,
                                environ_overrides={"REMOTE_ADDR": address})

    def send(self, kind, obj, event_id=None, **post):
        body = self.event(kind, obj, event_id)
        return self.post(body, self.sign(body), **post)


@pytest.fixture
def stripe_sender(client, clock):
    return StripeSender(client, clock)


def events():
    db.session.expire_all()
    return db.session.scalars(select(ProcessorEvent).order_by(ProcessorEvent.id)).all()


def fresh(host):
    """The host again in the current session (a worker run ends the test's session)."""
    from sqlalchemy import inspect

    from hostadmin.ledger.models import Host
    return db.session.get(Host, inspect(host).identity[0])


def balance_of(host, account):
    return ledger.balances(fresh(host)).get(account.id, 0)
