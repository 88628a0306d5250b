"""Stripe fees fetched with the host's API key from a local server that answers as Stripe's API does."""
import json
import socket
import threading

import pytest
from rq.job import Job
from sqlalchemy import select
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from hostadmin.extensions import db, queues
from hostadmin.ledger.models import Account
from hostadmin.processors import connections, fees
from hostadmin.processors.models import ProcessorEvent, ProcessorPayment
from tests.processors.conftest import STRIPE_SECRET, balance_of, fresh, work
from tests.support.servers import serving

API_KEY = "rk_test_fees_only"


class FakeStripeApi:
    """GET /v1/balance_transactions/<id> for one bearer key, as Stripe's API answers it."""

    def __init__(self, transactions):
        self.transactions, self.requests = transactions, []

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.requests.append((request.path, request.headers.get("Authorization")))
        if request.headers.get("Authorization") != f"Bearer {API_KEY}":
            body, status = {"error": {"type": "invalid_request_error", "message": "Invalid API Key"}}, 401
        else:
            found = self.transactions.get(request.path.rsplit("/", 1)[-1])
            body, status = (found, 200) if found else ({"error": {"type": "invalid_request_error",
                                                                   "message": "No such balance transaction"}}, 404)
        return Response(json.dumps(body), status, content_type="application/json")(environ, start_response)


@pytest.fixture
def stripe_api(app):
    api = FakeStripeApi({"txn_1": {"id": "txn_1", "object": "balance_transaction", "amount": 5000, "fee": 175,
                                   "currency": "usd", "available_on": 1795000000}})
    with serving(api) as base:
        app.config["STRIPE_API_BASE"] = base
        yield api


def rowers(host):
    return db.session.scalar(select(Account).where(Account.host_id == fresh(host).id,
                                                   Account.slug == "river-rowers"))


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_with_an_api_key_the_job_fetches_the_fee_of_the_charge(river, stripe_api, stripe_sender):
    connections.configure(river, "stripe", material=STRIPE_SECRET, api_key=API_KEY)
    stripe_sender.send("charge.succeeded", stripe_sender.charge(ref="ch_k", amount=5000, balance_transaction="txn_1"))
    work()
    assert balance_of(river, rowers(river)) == 5000 - 175
    assert stripe_api.requests == [("/v1/balance_transactions/txn_1", f"Bearer {API_KEY}")]
    assert db.session.scalar(select(ProcessorPayment.fee)) == 175


def test_while_stripe_is_unreachable_the_contribution_is_gross_and_a_retried_job_adds_the_fee(app, river,
                                                                                              stripe_sender):
    connections.configure(river, "stripe", material=STRIPE_SECRET, api_key=API_KEY)
    app.config["STRIPE_API_BASE"] = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    stripe_sender.send("charge.succeeded", stripe_sender.charge(ref="ch_u", amount=5000, balance_transaction="txn_1"))
    work()
    assert balance_of(river, rowers(river)) == 5000
    event_id = db.session.scalar(select(ProcessorEvent.event_id))
    job = Job.fetch(f"stripe-fee-{fresh(river).id}-txn_1", connection=queues.connection)
    # The worker has tried it once already, failed, and scheduled the next try.
    assert (job.retries_left, job.get_status()) == (len(fees.RETRY_INTERVALS) - 1, "scheduled")
    with pytest.raises(fees.FeeUnavailable):
        fees.fetch_fee_job(fresh(river).id, event_id)  # still down: the job fails and RQ retries it

    api = FakeStripeApi({"txn_1": {"id": "txn_1", "fee": 175, "currency": "usd"}})
    server = make_server("127.0.0.1", 0, api, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        app.config["STRIPE_API_BASE"] = f"http://127.0.0.1:{server.server_port}"
        assert fees.fetch_fee_job(fresh(river).id, event_id) == "fee recorded"
        assert fees.fetch_fee_job(fresh(river).id, event_id) == "fee already recorded"
    finally:
        server.shutdown()
    assert balance_of(river, rowers(river)) == 5000 - 175


def test_a_wrong_api_key_leaves_the_contribution_gross(river, stripe_api, stripe_sender):
    connections.configure(river, "stripe", material=STRIPE_SECRET, api_key="rk_test_wrong")
    stripe_sender.send("charge.succeeded", stripe_sender.charge(ref="ch_w", amount=5000, balance_transaction="txn_1"))
    work()
    assert balance_of(river, rowers(river)) == 5000
    assert db.session.scalar(select(ProcessorPayment.fee)) is None
