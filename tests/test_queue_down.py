"""With Redis unreachable, the pages that queue a job answer 503 with a message instead of a 500, and
what they recorded says it never started (a report can be retried; a statement can be imported again)."""
import io
import re

import pytest

from hostadmin.auth.models import Role
from hostadmin.imports import csv_import
from hostadmin.imports.models import ImportRow, ImportRun
from hostadmin.reports.models import ReportExport
from hostadmin.statements import background
from tests.factories import PASSWORD, make_host, make_user


@pytest.fixture
def down(databases, redis_url, tmp_path):
    """An app whose Redis is a closed port, with an admin signed in and a statement import."""
    from tests.conftest import build_app, finish_app

    app, _ = build_app(databases, redis_url, tmp_path, REDIS_URL="redis://127.0.0.1:1/0",
                       STATEMENT_BACKGROUND_LINES=3)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    with app.app_context():
        from hostadmin.extensions import db
        host = make_host(slug="river")
        admin = make_user(host, Role.ADMIN, email="admin@river.org")
        imp = csv_import.create_csv_import(host, admin, "Credit Union", "CU 1")
        db.session.commit()
        client = app.test_client()
        assert client.login("admin@river.org", PASSWORD).status_code == 302
        yield client, imp.id
    finish_app(app, databases)


@pytest.mark.parametrize("path,form", [
    ("/h/river/reports/ledger", {"from": "2026-10-01", "to": "2026-10-31"}),
    ("/h/river/reports/monthly", {"month": "2026-10"})])
def test_a_report_requested_while_the_queue_is_down_is_a_503_and_kept_failed_for_retry(down, path, form):
    from hostadmin.extensions import db
    client, _ = down

    response = client.post_with_csrf(path, form)

    html = response.get_data(as_text=True)
    assert response.status_code == 503 and "The job queue is unavailable right now" in html
    export = db.session.query(ReportExport).one()
    assert export.status == "FAILED" and "job queue is unavailable" in export.error
    assert ">Retry<" in html


def test_a_big_statement_confirmed_while_the_queue_is_down_is_a_503_and_can_be_imported_again(down):
    from hostadmin.extensions import db
    client, imp_id = down
    data = ("Date,Description,Amount,Currency\n" + "".join(
        f"2026-11-0{i + 1},Gift {i},1.00,USD\n" for i in range(6))).encode()
    html = client.post(f"/h/river/imports/{imp_id}/preview",
                       data={"csrf_token": client.csrf_token("/"), "file": (io.BytesIO(data), "big.csv")},
                       content_type="multipart/form-data").get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)

    response = client.post_with_csrf(f"/h/river/imports/{imp_id}/import", {
        "token": token, "date": "Date", "date_format": "%Y-%m-%d", "description": "Description",
        "amount": "Amount", "currency": "Currency"})

    html = response.get_data(as_text=True)
    assert response.status_code == 503 and "the job queue is unavailable right now" in html.lower()
    assert f'name="token" value="{token}"' in html  # the preview stays, to import again in a moment
    run = db.session.query(ImportRun).one()
    assert (run.outcome, run.error) == ("FAILED", background.QUEUE_DOWN)
    assert db.session.query(ImportRow).count() == 0
    assert not background.can_retry(run)
