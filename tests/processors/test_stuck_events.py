"""A processor event whose job died (an unforeseen database error, a killed worker) is applied later by
the safety net or by the processor's redelivery: it is never left RECEIVED with its money unrecorded."""
import pytest
from sqlalchemy import func, select

from hostadmin.extensions import db
from hostadmin.ledger.models import Order
from hostadmin.webhooks import service as webhooks
from tests.banking.test_bad_lines import Refusals
from tests.processors.conftest import events, work


@pytest.fixture
def refuse(app):
    refusals = Refusals()
    yield refusals
    refusals.remove_all()


@pytest.mark.parametrize("then", ["the safety net runs", "stripe redelivers"])
def test_an_event_whose_job_failed_is_applied_once_later(stripe_host, stripe_sender, refuse, then):
    refuse.install("ledger_transactions", "NEW.amount <> 0", "the database is having a bad day",
                   events="INSERT")
    body = stripe_sender.event("charge.succeeded", stripe_sender.charge(amount=5000, fee=175))
    assert stripe_sender.post(body, stripe_sender.sign(body)).status_code == 200
    work()  # the job fails on the refused INSERT, an error the service did not foresee
    assert events()[0].status == "RECEIVED" and db.session.scalar(select(Order)) is None
    refuse.remove_all()  # the database is fine again

    if then == "the safety net runs":
        assert webhooks.run_safety_net()["dispatched"] == 1
    else:
        assert stripe_sender.post(body, stripe_sender.sign(body)).status_code == 200
    work()

    assert events()[0].status == "APPLIED" and db.session.scalar(select(Order.status)) == "PAID"
    assert webhooks.run_safety_net()["dispatched"] == 0  # an applied event is left alone
    assert stripe_sender.post(body, stripe_sender.sign(body)).status_code == 200
    work()
    assert db.session.scalar(select(func.count(Order.id))) == 1


def test_an_event_whose_job_is_waiting_in_the_queue_is_not_enqueued_twice(stripe_host, stripe_sender):
    body = stripe_sender.event("charge.succeeded", stripe_sender.charge(amount=5000, fee=175))
    assert stripe_sender.post(body, stripe_sender.sign(body)).status_code == 200

    assert webhooks.run_safety_net()["dispatched"] == 0
    assert stripe_sender.post(body, stripe_sender.sign(body)).status_code == 200
    from hostadmin.extensions import queues
    assert queues.get("default").count == 1
    work()
    assert events()[0].status == "APPLIED"
