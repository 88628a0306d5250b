"""A sync's progress on its connection page: queued, pages so far while it runs, then its counts; Plaid's
errors said in words with their code beside them."""
import re

import pytest

from hostadmin.banking import progress
from hostadmin.banking.jobs import request_sync
from hostadmin.banking.sync import import_of, sync_item
from hostadmin.imports.models import ImportRun
from tests.factories import make_user

HX = {"HX-Request": "true"}


@pytest.fixture
def admin_web(db, host, item, client, login_as):
    login_as(make_user(host))
    db.session.commit()
    return client


def status(web, item):
    return web.get(f"/h/river/connections/{item.id}?fragment=status", headers=HX).get_data(as_text=True)


def poll_interval(html):
    return re.search(r'hx-trigger="every (\d+s)"', html).group(1)


def test_an_idle_connection_refreshes_its_status_every_30_seconds(admin_web, item):
    html = status(admin_web, item)
    assert html.lstrip().startswith('<div id="item-status"') and poll_interval(html) == "30s"
    assert "Not synced yet" in html and "data-sync-state" not in html


def test_after_sync_now_the_page_says_it_is_queued_and_polls_quickly(admin_web, item):
    assert request_sync(item) == "enqueued"  # what "Sync now" does, on the real queue
    html = status(admin_web, item)
    assert poll_interval(html) == "2s" and 'data-sync-state="waiting"' in html and "Sync queued" in html
    full = admin_web.get(f"/h/river/connections/{item.id}").get_data(as_text=True)
    assert 'data-sync-busy' in full and "Sync queued" in full


def test_a_running_sync_shows_its_pages_so_far(admin_web, item, db):
    run = ImportRun(import_id=import_of(item).id, host_id=item.host_id, trigger="manual", outcome="RUNNING")
    db.session.add(run)
    db.session.commit()
    html = status(admin_web, item)
    assert poll_interval(html) == "2s" and "Syncing: 0 pages so far" in html
    progress.report_pages(run.id, 3)
    html = status(admin_web, item)
    assert "Syncing: 3 pages so far" in html
    assert re.search(rf'data-run="{run.id}".*?<td class="num">3</td>', html, re.S)


def test_a_real_sync_reports_each_page_as_it_goes(admin_web, item, plaid_client, db):
    sync_item(item, plaid_client)
    db.session.commit()
    run = db.session.query(ImportRun).order_by(ImportRun.id.desc()).first()
    assert run.outcome == "SUCCEEDED" and run.pages >= 1
    assert progress.pages_so_far(run.id) == run.pages  # what the page showed while it ran
    html = status(admin_web, item)
    assert poll_interval(html) == "30s" and "Last synced just now" in html and "Syncing" not in html


def test_a_plaid_error_is_said_in_words_with_its_code_beside_it(admin_web, item, db):
    item.status, item.error_code = "ERROR", "INSTITUTION_DOWN"
    item.error_message = "the institution is down (status code 500)"
    run = ImportRun(import_id=import_of(item).id, host_id=item.host_id, trigger="manual", outcome="FAILED",
                    error_code="RATE_LIMIT_EXCEEDED", error="rate limit exceeded for /transactions/sync")
    db.session.add(run)
    db.session.commit()
    html = status(admin_web, item)
    assert ("The bank&#39;s systems are down. Nothing to do: the sync is tried again later. "
            '<code class="error-code" title="the institution is down (status code 500)">INSTITUTION_DOWN</code>') in html
    assert ("Too many requests to Plaid in a short time. The sync is tried again shortly. "
            '<code class="error-code" title="rate limit exceeded for /transactions/sync">RATE_LIMIT_EXCEEDED</code>') in html


def test_an_unknown_plaid_error_keeps_plaids_own_words_and_its_code(admin_web, item, db):
    item.status, item.error_code, item.error_message = "ERROR", "SOMETHING_NEW", "A new kind of failure"
    db.session.commit()
    assert 'A new kind of failure <code class="error-code">SOMETHING_NEW</code>' in status(admin_web, item)


def test_without_javascript_connect_a_bank_says_it_needs_it(admin_web):
    html = admin_web.get("/h/river/connections/").get_data(as_text=True)
    notice = html.split("<noscript>")[1].split("</noscript>")[0]
    assert "needs JavaScript" in notice and 'href="/h/river/imports/"' in notice
