"""What each verified webhook does: syncs through the queue, item status and banners, or nothing (but recorded)."""
import pytest
import redis
from flask import url_for
from sqlalchemy import select

from hostadmin.audit.models import AuditEntry
from hostadmin.auth.models import Role
from hostadmin.banking.models import PlaidItem
from hostadmin.extensions import db, queues
from hostadmin.webhooks import service
from hostadmin.webhooks.models import WebhookEvent
from tests.factories import make_host, make_user
from tests.webhooks.conftest import make_item


@pytest.fixture
def item(host):
    item = make_item(host, "item-1", institution_name="First Platypus Bank")
    db.session.commit()
    return item


def events():
    db.session.expire_all()
    return db.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)).all()


def fresh(item):
    db.session.expire_all()
    return db.session.get(PlaidItem, item.id)


def sync_jobs():
    return queues.get("sync").job_ids


@pytest.mark.parametrize("code", ["SYNC_UPDATES_AVAILABLE", "DEFAULT_UPDATE", "INITIAL_UPDATE", "HISTORICAL_UPDATE"])
def test_transactions_webhooks_request_a_sync_of_the_item(sender, item, code):
    assert sender.send(code, "item-1").status_code == 200
    assert sync_jobs() == [f"sync-item-{item.id}"]
    assert events()[0].outcome == "DISPATCHED"


def test_duplicate_webhooks_lead_to_one_waiting_sync(sender, item):
    for _ in range(10):
        assert sender.send("SYNC_UPDATES_AVAILABLE", "item-1").status_code == 200
    assert sync_jobs() == [f"sync-item-{item.id}"]
    recorded = events()
    assert [e.outcome for e in recorded] == ["DISPATCHED"] * 10
    assert recorded[0].error is None and recorded[1].error == "joined a sync that was already waiting"


def test_unknown_item_is_recorded_and_answered_200(sender, item):
    assert sender.send("SYNC_UPDATES_AVAILABLE", "item-nobody-knows").status_code == 200
    event = events()[0]
    assert (event.verified, event.outcome, event.error, event.item_id) == (True, "IGNORED", "unknown item", None)
    assert sync_jobs() == []


@pytest.mark.parametrize("code,webhook_type", [("TRANSACTIONS_REMOVED", "TRANSACTIONS"),
                                               ("RECURRING_TRANSACTIONS_UPDATE", "TRANSACTIONS"),
                                               ("USER_ACCOUNT_REVOKED", "ITEM"),
                                               ("PRODUCT_READY", "INCOME")])
def test_unhandled_codes_are_recorded_and_answered_200(sender, item, code, webhook_type):
    body = sender.body(code, "item-1", webhook_type=webhook_type)
    assert sender.post(body, sender.keys.sign(body)).status_code == 200
    event = events()[0]
    assert (event.outcome, event.webhook_code, event.item_id) == ("IGNORED", code, item.id)
    assert fresh(item).status == "HEALTHY" and sync_jobs() == []


def test_a_disconnected_item_is_not_synced(sender, item):
    item.status = "DISCONNECTED"
    db.session.commit()
    assert sender.send("SYNC_UPDATES_AVAILABLE", "item-1").status_code == 200
    assert events()[0].outcome == "IGNORED" and sync_jobs() == []


ITEM_ERROR = {"error_code": "ITEM_LOGIN_REQUIRED", "error_type": "ITEM_ERROR", "status": 400,
              "error_message": "the login details of this item have changed", "display_message": None}

ITEM_CASES = {
    "ERROR": ({"error": ITEM_ERROR}, "LOGIN_REQUIRED", "First Platypus Bank needs you to sign in again"),
    "PENDING_EXPIRATION": ({"consent_expiration_time": "2026-12-01T13:25:17.766Z"}, "PENDING_EXPIRATION",
                           "First Platypus Bank: Access to this bank ends on 2026-12-01."),
    "PENDING_DISCONNECT": ({"reason": "INSTITUTION_MIGRATION", "disconnect_time": "2026-11-27T00:00:00Z"},
                           "PENDING_DISCONNECT", "First Platypus Bank: Plaid will disconnect this bank on 2026-11-27."),
    "USER_PERMISSION_REVOKED": ({"error": {**ITEM_ERROR, "error_code": "USER_PERMISSION_REVOKED"}}, "REVOKED",
                                "the account holder revoked access"),
    "NEW_ACCOUNTS_AVAILABLE": ({"error": None}, "HEALTHY", "New accounts available at First Platypus Bank."),
}


@pytest.fixture
def admin_client(client, host, login_as):
    login_as(make_user(host, Role.ADMIN))
    return client


def dashboard(client):
    return client.get("/h/river/").get_data(as_text=True)


@pytest.mark.parametrize("code", sorted(ITEM_CASES))
def test_item_webhooks_set_the_status_and_show_admins_a_banner(sender, item, admin_client, code):
    fields, status, banner = ITEM_CASES[code]
    assert banner not in dashboard(admin_client)

    assert sender.send(code, "item-1", **fields).status_code == 200

    assert fresh(item).status == status
    assert events()[0].outcome == "APPLIED"
    assert banner in dashboard(admin_client)
    assert sync_jobs() == []
    audit = db.session.scalars(select(AuditEntry)).one()
    assert audit.object_id == item.id and audit.data["webhook_code"] == code


def test_item_error_other_than_login_is_an_error_status_with_its_code(sender, item, admin_client):
    error = {**ITEM_ERROR, "error_code": "INSTITUTION_NOT_RESPONDING", "display_message": "The bank is not responding."}
    sender.send("ERROR", "item-1", error=error)
    assert (fresh(item).status, fresh(item).error_code) == ("ERROR", "INSTITUTION_NOT_RESPONDING")
    # Said in words a host admin can act on, with Plaid's code beside them.
    assert ("First Platypus Bank cannot sync: The bank is not answering right now. Nothing to do: the sync is "
            "tried again later. (INSTITUTION_NOT_RESPONDING)") in dashboard(admin_client)


def test_login_repaired_clears_the_banner_and_catches_up(sender, item, admin_client):
    sender.send("ERROR", "item-1", error=ITEM_ERROR)
    assert "needs you to sign in again" in dashboard(admin_client)

    assert sender.send("LOGIN_REPAIRED", "item-1").status_code == 200

    assert (fresh(item).status, fresh(item).error_code) == ("HEALTHY", None)
    assert "needs you to sign in again" not in dashboard(admin_client)
    assert events()[-1].outcome == "DISPATCHED" and sync_jobs() == [f"sync-item-{item.id}"]


@pytest.mark.parametrize("code", ["LOGIN_REPAIRED", "ERROR", "PENDING_DISCONNECT", "NEW_ACCOUNTS_AVAILABLE"])
def test_late_item_webhooks_do_not_change_a_revoked_item(sender, item, code):
    sender.send("USER_PERMISSION_REVOKED", "item-1")
    sender.send(code, "item-1", **ITEM_CASES.get(code, ({},))[0])
    assert fresh(item).status == "REVOKED" and not fresh(item).new_accounts_available
    assert (events()[-1].outcome, events()[-1].error) == ("IGNORED", "item is REVOKED")


def test_webhook_update_acknowledged_is_recorded_only(sender, item):
    sender.send("WEBHOOK_UPDATE_ACKNOWLEDGED", "item-1", new_webhook_url="https://example.org/webhooks/plaid",
                error=None)
    event = events()[0]
    assert (event.outcome, event.error) == ("IGNORED", "recorded only")
    assert fresh(item).status == "HEALTHY"


def test_banners_are_for_admins_of_the_items_host_only(sender, item, host, client, login_as):
    accountant = make_user(host, Role.ACCOUNTANT)
    other_admin = make_user(make_host(slug="lake"), Role.ADMIN)
    db.session.commit()
    sender.send("NEW_ACCOUNTS_AVAILABLE", "item-1")

    login_as(accountant)
    assert "New accounts available" not in client.get("/h/river/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": client.csrf_token("/")})
    login_as(other_admin)
    assert "New accounts available" not in client.get("/h/lake/").get_data(as_text=True)


def test_banners_show_on_every_host_page(sender, item, admin_client):
    sender.send("NEW_ACCOUNTS_AVAILABLE", "item-1")
    for path in ("/h/river/", "/h/river/webhooks/", "/h/river/connections/"):
        assert "New accounts available at First Platypus Bank." in admin_client.get(path).get_data(as_text=True)


def test_banner_links_to_the_items_connection_page(sender, item, admin_client, app):
    sender.send("ERROR", "item-1", error=ITEM_ERROR)
    page = dashboard(admin_client)
    with app.test_request_context():
        expected = url_for("banking.item", host_slug="river", item_id=item.id)
    assert f'data-banner="LOGIN_REQUIRED" data-item="{item.id}"' in page
    assert f'href="{expected}' in page


def test_when_redis_is_down_the_event_waits_and_is_dispatched_when_it_is_back(sender, item, monkeypatch):
    alive = queues.connection
    monkeypatch.setattr(queues, "_connection", redis.Redis.from_url("redis://127.0.0.1:1/0"))
    assert sender.send("SYNC_UPDATES_AVAILABLE", "item-1").status_code == 200
    assert sender.send("SYNC_UPDATES_AVAILABLE", "item-1").status_code == 200
    waiting = events()
    assert [e.outcome for e in waiting] == ["RECEIVED", "RECEIVED"]
    assert waiting[0].error.startswith("queue unavailable")

    monkeypatch.setattr(queues, "_connection", alive)
    assert sync_jobs() == []
    assert service.dispatch_pending() == 2
    assert [e.outcome for e in events()] == ["DISPATCHED", "DISPATCHED"]
    assert sync_jobs() == [f"sync-item-{item.id}"]


def test_the_next_webhook_dispatches_events_left_waiting(sender, item, host, monkeypatch):
    other = make_item(host, "item-2")
    db.session.commit()
    alive = queues.connection
    monkeypatch.setattr(queues, "_connection", redis.Redis.from_url("redis://127.0.0.1:1/0"))
    sender.send("SYNC_UPDATES_AVAILABLE", "item-1")
    monkeypatch.setattr(queues, "_connection", alive)

    sender.send("SYNC_UPDATES_AVAILABLE", "item-2")

    assert [e.outcome for e in events()] == ["DISPATCHED", "DISPATCHED"]
    assert sorted(sync_jobs()) == sorted([f"sync-item-{item.id}", f"sync-item-{other.id}"])
