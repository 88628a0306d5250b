"""Genuine webhooks from the Plaid emulator, delivered over HTTP to the running app, end to end."""
import threading
from types import SimpleNamespace
import urllib.request

import pytest
import redis
from rq import SimpleWorker
from sqlalchemy import func, select

from hostadmin.banking import connect
from hostadmin.extensions import db, queues
from hostadmin.imports.models import ImportRow, ImportRun
from hostadmin.plaid_local.signing import webhook_body
from hostadmin.webhooks import service
from hostadmin.webhooks.models import WebhookEvent
from tests.factories import make_host


@pytest.fixture
def linked(app, plaid, live_server):
    """A host with an item connected through the emulator, its webhook pointing at the live app, first sync done."""
    app.config.update(PUBLIC_BASE_URL=live_server, PLAID_HOST=plaid.url, SYNC_RETRY_BASE_SECONDS=0)
    host = make_host(slug="river", name="River Host")
    db.session.commit()
    item = connect.sandbox_connect(host, app.extensions["plaid"])
    assert item.webhook_url == f"{live_server}/webhooks/plaid"
    from hostadmin.banking.jobs import request_sync
    request_sync(item, trigger="connect")
    linked = SimpleNamespace(id=item.id, host_id=item.host_id, plaid_item_id=item.plaid_item_id)
    work()
    return linked


def work():
    """Run the sync queue's jobs to completion in this process (a real RQ worker, burst mode)."""
    SimpleWorker([queues.get("sync")], connection=queues.connection).work(burst=True)
    db.session.remove()



def rows_of(item):
    return db.session.scalars(select(ImportRow.source_id).where(ImportRow.host_id == item.host_id)).all()


def runs_of(item):
    """(trigger, outcome, error) of the item's sync runs, oldest first: shown when an assertion fails."""
    return [(r.trigger, r.outcome, r.error) for r in db.session.scalars(
        select(ImportRun).where(ImportRun.host_id == item.host_id).order_by(ImportRun.id))]


def delivered(plaid, item):
    return [(row["webhook_code"], row["status"], [a["status"] for a in row["attempt_log"]])
            for row in plaid.outbox(item.plaid_item_id)]


def test_sync_updates_available_makes_new_transactions_visible(plaid, linked):
    before = set(rows_of(linked))
    new_ids = plaid.add_transactions(linked.plaid_item_id, count=10, seed=7, pending_share=0)

    plaid.deliver_webhooks()

    assert delivered(plaid, linked)[-1] == ("SYNC_UPDATES_AVAILABLE", "delivered", [200])
    event = db.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id.desc())).first()
    assert (event.verified, event.outcome, event.item_id) == (True, "DISPATCHED", linked.id)
    work()
    assert set(rows_of(linked)) - before == set(new_ids), runs_of(linked)


class GatedPlaid:
    """The app's Plaid client, except that the first /transactions/sync waits until the storm is over.

    This puts all 50 webhooks deterministically *during* a running sync: the worst case for coalescing.
    """

    def __init__(self, client):
        self._client = client
        self.sync_started, self.storm_over = threading.Event(), threading.Event()

    def transactions_sync(self, *args, **kwargs):
        self.sync_started.set()
        assert self.storm_over.wait(60), "the webhook storm did not finish"
        return self._client.transactions_sync(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._client, name)


def test_fifty_concurrent_duplicate_webhooks_import_each_transaction_once(app, plaid, linked, live_server):
    runs_before = db.session.scalar(select(func.count()).select_from(ImportRun))
    new_ids = plaid.add_transactions(linked.plaid_item_id, count=10, seed=8, pending_share=0)
    body = webhook_body({"webhook_type": "TRANSACTIONS", "webhook_code": "SYNC_UPDATES_AVAILABLE",
                         "item_id": linked.plaid_item_id, "initial_update_complete": True,
                         "historical_update_complete": True, "environment": "sandbox"})
    gated = app.extensions["plaid"] = GatedPlaid(app.extensions["plaid"])
    statuses = []

    def post(barrier):
        request = urllib.request.Request(f"{live_server}/webhooks/plaid", data=body, method="POST", headers={
            "Content-Type": "application/json", "Plaid-Verification": plaid.emulator.keys.sign(body)})
        barrier.wait()
        with urllib.request.urlopen(request, timeout=30) as response:
            statuses.append(response.status)

    def storm():
        gated.sync_started.wait(60)
        barrier = threading.Barrier(50)
        senders = [threading.Thread(target=post, args=(barrier,)) for _ in range(50)]
        for thread in senders:
            thread.start()
        for thread in senders:
            thread.join(60)
        gated.storm_over.set()

    first = threading.Thread(target=post, args=(threading.Barrier(1),))  # the webhook that starts it all
    first.start()
    first.join(30)
    storm_thread = threading.Thread(target=storm)
    storm_thread.start()
    work()  # the sync runs while 50 duplicates arrive, then once more for them
    storm_thread.join(60)
    work()

    assert statuses == [200] * 51
    rows = rows_of(linked)
    assert len(rows) == len(set(rows)) and set(new_ids) <= set(rows)
    runs = db.session.scalar(select(func.count()).select_from(ImportRun)) - runs_before
    assert runs == 2  # the running sync plus one follow-up, whatever the storm
    events = db.session.scalars(select(WebhookEvent).where(WebhookEvent.verified.is_(True))
                                .order_by(WebhookEvent.id.desc()).limit(51)).all()
    assert len(events) == 51 and {e.outcome for e in events} == {"DISPATCHED"}


def test_key_rotation_mid_stream(plaid, linked, app):
    first = plaid.add_transactions(linked.plaid_item_id, count=3, seed=9, pending_share=0)
    plaid.deliver_webhooks()
    plaid.rotate_key()
    second = plaid.add_transactions(linked.plaid_item_id, count=3, seed=10, pending_share=0)
    plaid.deliver_webhooks()
    plaid.arm_webhook_defect(linked.plaid_item_id, "expired_key")  # a straggler signed with the retired key
    plaid.add_transactions(linked.plaid_item_id, count=1, seed=11, pending_share=0)
    plaid.deliver_webhooks()

    outcomes = delivered(plaid, linked)
    assert [o[2][0] for o in outcomes[-3:]] == [200, 200, 401]
    kids = {row["attempt_log"][0]["jwt"].split(".")[0] for row in plaid.outbox(linked.plaid_item_id)[-3:-1]}
    assert len(kids) == 2  # the two accepted webhooks were signed by different keys
    work()
    assert set(first + second) <= set(rows_of(linked))


def test_redis_stopped_during_a_webhook_keeps_the_event_and_processes_it_when_redis_returns(
        plaid, linked, monkeypatch):
    new_ids = plaid.add_transactions(linked.plaid_item_id, count=5, seed=12, pending_share=0)
    alive = queues.connection
    monkeypatch.setattr(queues, "_connection", redis.Redis.from_url("redis://127.0.0.1:1/0"))
    plaid.deliver_webhooks()
    monkeypatch.setattr(queues, "_connection", alive)

    assert delivered(plaid, linked)[-1][2] == [200]  # answered 200: the event is safe in the database
    event = db.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id.desc())).first()
    event_id = event.id
    assert event.outcome == "RECEIVED"
    assert not set(new_ids) & set(rows_of(linked))

    service.run_safety_net()  # the periodic job (or the next webhook) dispatches it
    work()

    db.session.expire_all()
    assert db.session.get(WebhookEvent, event_id).outcome == "DISPATCHED"
    assert set(new_ids) <= set(rows_of(linked))
