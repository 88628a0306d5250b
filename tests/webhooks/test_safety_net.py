"""The periodic safety net: quiet items get synced, waiting events get dispatched, old events go."""
from datetime import timedelta

import redis
from rq import SimpleWorker
from sqlalchemy import select

from hostadmin.extensions import db, queues
from hostadmin.jobs import enqueue
from hostadmin.webhooks import service
from hostadmin.webhooks.jobs import safety_net_job
from hostadmin.webhooks.models import WebhookEvent
from tests.webhooks.conftest import make_item


def sync_jobs():
    return sorted(queues.get("sync").job_ids)


def test_items_quiet_for_longer_than_the_configured_age_are_synced(app, host, clock):
    now = clock()
    quiet = make_item(host, "quiet", last_synced_at=now - timedelta(hours=13))
    never = make_item(host, "never")
    recent = make_item(host, "recent", last_synced_at=now - timedelta(hours=11))
    make_item(host, "login", status="LOGIN_REQUIRED", last_synced_at=now - timedelta(days=3))
    make_item(host, "revoked", status="REVOKED", last_synced_at=now - timedelta(days=3))
    make_item(host, "gone", status="DISCONNECTED", last_synced_at=now - timedelta(days=3))
    db.session.commit()

    result = service.run_safety_net()

    assert result["stale_items"] == sorted([quiet.id, never.id])
    assert sync_jobs() == sorted([f"sync-item-{quiet.id}", f"sync-item-{never.id}"])
    app.config["SYNC_STALE_AFTER_HOURS"] = 6
    service.run_safety_net()
    assert f"sync-item-{recent.id}" in sync_jobs()


def test_events_that_never_got_a_job_are_dispatched(sender, host, monkeypatch):
    item = make_item(host, "item-1", last_synced_at=None)
    db.session.commit()
    alive = queues.connection
    monkeypatch.setattr(queues, "_connection", redis.Redis.from_url("redis://127.0.0.1:1/0"))
    sender.send("SYNC_UPDATES_AVAILABLE", "item-1")
    monkeypatch.setattr(queues, "_connection", alive)

    assert service.run_safety_net()["dispatched"] == 1
    event = db.session.scalars(select(WebhookEvent)).one()
    db.session.refresh(event)
    assert (event.outcome, event.job_id) == ("DISPATCHED", f"sync-item-{item.id}")


def test_old_events_are_pruned_after_the_retention_but_waiting_ones_are_kept(app, host, clock):
    item = make_item(host, "item-1", last_synced_at=clock())
    now = clock()
    for days, outcome in ((100, "DISPATCHED"), (100, "REJECTED"), (100, "RECEIVED"), (10, "IGNORED")):
        db.session.add(WebhookEvent(received_at=now - timedelta(days=days), outcome=outcome, item_id=item.id,
                                    verified=outcome != "REJECTED"))
    db.session.commit()
    app.config["WEBHOOK_EVENT_RETENTION_DAYS"] = 30
    service.prune()
    left = db.session.scalars(select(WebhookEvent.outcome).order_by(WebhookEvent.id)).all()
    assert left == ["RECEIVED", "IGNORED"]


def test_the_safety_net_runs_as_an_rq_job(app, host, clock):
    item_id = make_item(host, "quiet", last_synced_at=clock() - timedelta(days=1)).id
    db.session.commit()
    job = enqueue(safety_net_job, queue="default")
    SimpleWorker([queues.get("default")], connection=queues.connection).work(burst=True)
    job.refresh()
    assert job.is_finished, job.latest_result()
    assert job.return_value()["stale_items"] == [item_id]
    assert sync_jobs() == [f"sync-item-{item_id}"]


def test_the_scheduler_registers_the_safety_net_with_rq_cron(app, monkeypatch):
    from rq.cron import CronScheduler

    registered = {}
    monkeypatch.setattr(CronScheduler, "start", lambda self: registered.update(
        {job.func_name: (job.queue_name, job.interval) for job in self.get_jobs()}))
    result = app.test_cli_runner().invoke(args=["scheduler", "--interval", "120"])
    assert result.exit_code == 0, result.output
    assert registered == {"hostadmin.webhooks.jobs.safety_net_job": ("default", 120),
                          "hostadmin.reports.jobs.expire_files": ("reports", 3600)}
