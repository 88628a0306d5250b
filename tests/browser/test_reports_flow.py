"""In a real browser: the accountant requests October's report, watches the progress bar, downloads the CSV."""
import csv

import pytest
from playwright.sync_api import expect
from rq import SimpleWorker

from hostadmin.auth.models import Role
from hostadmin.extensions import db, queues
from tests.factories import make_user
from tests.reports.helpers import OCTOBER, october_world

pytestmark = pytest.mark.browser


def test_accountant_requests_october_watches_the_progress_bar_and_downloads_matching_totals(
        app, logged_in_page, tmp_path):
    host = october_world()[0]
    accountant = make_user(host, role=Role.ACCOUNTANT)
    db.session.commit()
    page = logged_in_page(accountant)
    violations = []
    page.on("console", lambda message: violations.append(message.text) if "Content Security" in message.text
            else None)

    page.goto("/h/river/reports/")
    expect(page.get_by_label("Month", exact=True)).to_have_value("2026-10")
    page.get_by_role("button", name="Build the CSV").click()
    progress = page.locator("#exports progress")
    expect(progress).to_be_visible()

    SimpleWorker([queues.get("reports")], connection=queues.connection).work(burst=True)
    link = page.locator("#exports").get_by_role("link", name="Download")
    expect(link).to_be_visible(timeout=10_000)  # the row polled itself until done (286)
    expect(progress).to_have_count(0)

    with page.expect_download() as info:
        link.click()
    path = tmp_path / "downloaded.csv"
    info.value.save_as(path)
    rows = list(csv.reader(path.open(encoding="utf-8")))
    assert rows[-1] == list(OCTOBER[-1]) and rows[-1][-2] == "586.80"

    page.goto("/h/river/reports/months/2026-10")
    expect(page.locator("#trend-table tbody tr")).to_have_count(12)
    page.wait_for_function("() => window.Chart && Chart.getChart('month-chart') && Chart.getChart('trend-chart')")
    assert page.evaluate("() => Chart.getChart('month-chart').data.datasets[0].data") == [70, 100]
    assert violations == []
