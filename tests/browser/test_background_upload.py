"""In a real browser: a big statement is confirmed, its progress bar polls while a real RQ worker imports it,
then the upload history shows its counts and the rows are there to triage."""
import pytest
from playwright.sync_api import expect
from rq import SimpleWorker

from hostadmin.extensions import db, queues
from hostadmin.imports import csv_import
from tests.factories import make_host, make_user

pytestmark = pytest.mark.browser


def test_a_big_statement_shows_a_progress_bar_then_its_counts(app, logged_in_page, tmp_path):
    app.config["STATEMENT_BACKGROUND_LINES"] = 10
    host = make_host(slug="river")
    admin = make_user(host)
    imp = csv_import.create_csv_import(host, admin, "Credit Union", "CU 1")
    db.session.commit()
    imp_id = imp.id  # the worker ends the shared session
    upload_url = f"/h/river/imports/{imp_id}/upload"
    statement = tmp_path / "year.csv"
    statement.write_text("Date,Description,Amount,Currency\n" + "".join(
        f"2026-11-{1 + i % 28:02d},Gift {i},{i + 1}.00,USD\n" for i in range(40)))
    page = logged_in_page(admin)

    page.goto(upload_url)
    page.get_by_label("Statement").set_input_files(str(statement))
    page.get_by_role("button", name="Preview").click()
    expect(page.locator('#preview [data-count="new"]')).to_have_text("40")
    page.get_by_role("button", name="Import 40 new lines").click()
    expect(page.locator(".flash-success")).to_contain_text("year.csv is being imported in the background")
    progress = page.locator("#history progress")
    expect(progress).to_be_visible()

    SimpleWorker([queues.get("default")], connection=queues.connection).work(burst=True)
    expect(progress).to_have_count(0, timeout=10_000)  # the row polled itself until done (286)
    expect(page.locator("#history tbody.upload-run").first).to_contain_text("40")
    page.goto(f"/h/river/imports/{imp_id}/rows")
    expect(page.locator("tbody.row")).to_have_count(40)
