"""The Webhooks page: did Plaid tell us, what did we do, which sync run answered it."""
from datetime import timedelta

import pytest

from hostadmin.auth.models import Role
from hostadmin.extensions import db
from hostadmin.imports.models import ImportRun, TransactionsImport
from tests.factories import make_host, make_user
from tests.webhooks.conftest import make_item


@pytest.fixture
def item(host):
    item = make_item(host, "item-1", institution_name="First Platypus Bank")
    db.session.commit()
    return item


@pytest.fixture
def admin(client, host, login_as):
    login_as(make_user(host, Role.ADMIN))
    return client


def test_lists_the_hosts_webhooks_with_code_and_outcome(sender, item, admin, clock):
    sender.send("SYNC_UPDATES_AVAILABLE", "item-1")
    clock.advance(minutes=1)
    sender.send("NEW_ACCOUNTS_AVAILABLE", "item-1")
    sender.send("SYNC_UPDATES_AVAILABLE", "someone-elses-item")  # unknown: no host to show it to

    page = admin.get("/h/river/webhooks/").get_data(as_text=True)

    assert page.count('<tr id="event-') == 2
    assert page.index("NEW_ACCOUNTS_AVAILABLE") < page.index("SYNC_UPDATES_AVAILABLE")
    assert 'data-outcome="APPLIED"' in page and 'data-outcome="DISPATCHED"' in page
    assert "2026-11-20 15:31 UTC" in page and "First Platypus Bank" in page
    assert f"job sync-item-{item.id} queued" in page


def test_links_each_event_to_the_sync_run_it_caused(sender, item, admin, clock, host):
    sender.send("SYNC_UPDATES_AVAILABLE", "item-1")
    tx_import = TransactionsImport(host_id=host.id, source="PLAID", name="First Platypus Bank",
                                   plaid_item_id=item.id)
    db.session.add(tx_import)
    db.session.flush()
    db.session.add(ImportRun(import_id=tx_import.id, host_id=host.id, trigger="manual", outcome="SUCCEEDED",
                             started_at=clock() - timedelta(hours=1), finished_at=clock()))  # before: not it
    clock.advance(seconds=2)
    run = ImportRun(import_id=tx_import.id, host_id=host.id, trigger="webhook", outcome="SUCCEEDED",
                    started_at=clock(), finished_at=clock(), added=10)
    db.session.add(run)
    db.session.commit()

    page = admin.get("/h/river/webhooks/").get_data(as_text=True)

    assert f"run #{run.id}</a>" in page and "succeeded, +10" in page


def test_filters_by_code_outcome_and_bank(sender, item, admin, host):
    other = make_item(host, "item-2", institution_name="Tartan Bank")
    db.session.commit()
    sender.send("SYNC_UPDATES_AVAILABLE", "item-1")
    sender.send("NEW_ACCOUNTS_AVAILABLE", "item-1")
    sender.send("SYNC_UPDATES_AVAILABLE", "item-2")

    by_code = admin.get("/h/river/webhooks/?code=NEW_ACCOUNTS_AVAILABLE").get_data(as_text=True)
    by_outcome = admin.get("/h/river/webhooks/?outcome=DISPATCHED").get_data(as_text=True)
    by_bank = admin.get(f"/h/river/webhooks/?item={other.id}").get_data(as_text=True)

    assert by_code.count('<tr id="event-') == 1 and 'data-code="NEW_ACCOUNTS_AVAILABLE"' in by_code
    assert by_outcome.count('data-outcome="DISPATCHED"') == 2 and 'data-outcome="APPLIED"' not in by_outcome
    assert by_bank.count('<tr id="event-') == 1 and "Tartan Bank</td>" in by_bank


def test_htmx_filter_request_gets_only_the_events_block(sender, item, admin):
    sender.send("SYNC_UPDATES_AVAILABLE", "item-1")
    response = admin.get("/h/river/webhooks/?code=SYNC_UPDATES_AVAILABLE", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section class="card" id="events">') and "<html" not in html
    assert "HX-Request" in response.headers.get("Vary", "")


def test_pages_older_events(sender, item, admin):
    for _ in range(55):
        sender.send("SYNC_UPDATES_AVAILABLE", "item-1")
    first = admin.get("/h/river/webhooks/").get_data(as_text=True)
    assert first.count('<tr id="event-') == 50 and "Older events" in first
    second = admin.get("/h/river/webhooks/?before=6").get_data(as_text=True)
    assert second.count('<tr id="event-') == 5 and "Older events" not in second


def test_accountants_can_read_it_and_other_hosts_cannot(sender, item, client, host, login_as):
    sender.send("SYNC_UPDATES_AVAILABLE", "item-1")
    stranger = make_user(make_host(slug="lake"), Role.ADMIN)
    accountant = make_user(host, Role.ACCOUNTANT)
    db.session.commit()
    login_as(accountant)
    assert client.get("/h/river/webhooks/").status_code == 200
    client.post("/logout", data={"csrf_token": client.csrf_token("/")})
    login_as(stranger)
    assert client.get("/h/river/webhooks/").status_code == 404


def test_requires_sign_in(client, host):
    response = client.get("/h/river/webhooks/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_reachable_from_the_main_navigation(admin):
    nav = admin.get("/h/river/").get_data(as_text=True)
    assert 'href="/h/river/webhooks/"' in nav
    page = admin.get("/h/river/webhooks/").get_data(as_text=True)
    assert 'href="/h/river/webhooks/" aria-current="page">Webhooks</a>' in page
