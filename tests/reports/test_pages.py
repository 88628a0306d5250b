"""Reports pages: request, progress fragment (286 when done), download, retry, month summary, audit trail."""
import csv
import io
import re

import pytest

from hostadmin.auth.models import Role
from hostadmin.extensions import db
from hostadmin.funds import periods
from hostadmin.ledger import service as ledger
from hostadmin.ledger.models import LedgerKind
from hostadmin.reports.models import ReportExport
from tests.factories import PASSWORD, make_contributor, make_host, make_user
from tests.reports.helpers import OCTOBER, add, october_world, utc

HTMX = {"HX-Request": "true"}


@pytest.fixture
def river(app):
    host, admin, rowers, choir, october = october_world()
    accountant = make_user(host, role=Role.ACCOUNTANT)
    db.session.commit()
    return host, admin, accountant, rowers


def only_export():
    [export] = db.session.query(ReportExport).filter(ReportExport.closed_period_id.is_(None)).all()
    return export


def test_accountant_requests_a_report_watches_progress_and_downloads_the_csv(river, client, login_as, worker):
    host, _, accountant, _ = river
    login_as(accountant)
    assert client.get("/h/river/reports/").status_code == 200

    response = client.post_with_csrf("/h/river/reports/monthly", {"month": "2026-10"})
    assert response.status_code == 303
    export_id = only_export().id
    running = client.get(f"/h/river/reports/{export_id}/progress", headers=HTMX)
    body = running.get_data(as_text=True)
    assert running.status_code == 200 and 'hx-trigger="every 1s"' in body and "<progress" in body
    assert "HX-Request" in running.headers["Vary"]

    worker()
    done = client.get(f"/h/river/reports/{export_id}/progress", headers=HTMX)
    assert done.status_code == 286 and "Download" in done.get_data(as_text=True)
    assert "hx-trigger" not in done.get_data(as_text=True)

    download = client.get(f"/h/river/reports/{export_id}/download")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert "monthly-2026-10.csv" in download.headers["Content-Disposition"]
    assert list(csv.reader(io.StringIO(download.get_data(as_text=True))))[1:] == [list(row) for row in OCTOBER]
    assert f'id="export-{export_id}" data-status="DONE"' in client.get("/h/river/reports/").get_data(as_text=True)


def test_ledger_export_request_with_columns_and_xlsx_downloads_a_workbook(river, client, login_as, worker):
    host, admin = river[:2]
    login_as(admin)
    response = client.post_with_csrf("/h/river/reports/ledger", {
        "from": "2026-10-01", "to": "2026-10-31", "by": "effective", "format": "xlsx",
        "columns": ["effective_date", "amount", "created_by"]})
    assert response.status_code == 303
    worker()
    export = only_export()
    download = client.get(f"/h/river/reports/{export.id}/download")
    assert download.status_code == 200 and download.data[:2] == b"PK"
    assert export.params["columns"] == ["effective_date", "amount", "created_by"]


@pytest.mark.parametrize("path, data", [
    ("/h/river/reports/monthly", {"month": "2026-13"}),
    ("/h/river/reports/monthly", {"month": "2027-01"}),
    ("/h/river/reports/monthly", {"month": "\x00\x1b'; drop"}),
    ("/h/river/reports/monthly", {"month": "2026-10", "format": "pdf"}),
    ("/h/river/reports/ledger", {"from": "yesterday", "to": "2026-10-31"}),
    ("/h/river/reports/ledger", {"from": "2026-10-31", "to": "2026-10-01"}),
    ("/h/river/reports/ledger", {"from": "2026-10-01", "to": "2026-10-31", "by": "whenever"}),
    ("/h/river/reports/ledger", {"from": "2026-10-01", "to": "2026-10-31", "columns": ["password"]}),
])
def test_a_refused_request_says_why_and_queues_nothing(river, client, login_as, path, data):
    login_as(river[1])
    response = client.post_with_csrf(path, data)
    assert response.status_code == 400 and 'class="flash flash-error"' in response.get_data(as_text=True)
    assert db.session.query(ReportExport).count() == 0


def test_requests_need_csrf_and_another_hosts_reports_are_not_found(app, river, client, login_as, worker):
    host, admin = river[:2]
    other = make_host(slug="lake")
    stranger_email = make_user(other).email
    db.session.commit()
    login_as(admin)
    assert client.post("/h/river/reports/monthly", data={"month": "2026-10"}).status_code == 400
    client.post_with_csrf("/h/river/reports/monthly", {"month": "2026-10"})
    worker()
    export_id = only_export().id
    other_client = app.test_client()
    other_client.login(stranger_email, PASSWORD)
    for path in (f"/h/river/reports/{export_id}/download", f"/h/river/reports/{export_id}/progress",
                 "/h/river/reports/"):
        assert other_client.get(path).status_code == 404
    assert other_client.get(f"/h/lake/reports/{export_id}/download").status_code == 404


def test_a_failed_report_shows_why_and_the_retry_button_queues_it_again(river, client, login_as, worker):
    host, admin, _, rowers = river
    stranger = make_contributor(host, "Someone")
    ledger.record_group(host, [ledger.Entry(rowers, stranger, -500, LedgerKind.HOST_FEE),
                               ledger.Entry(stranger, rowers, 500, LedgerKind.HOST_FEE)],
                        currency="USD", cleared_at=utc(2026, 10, 25, 12), description="Misfiled fee")
    db.session.commit()
    login_as(admin)
    client.post_with_csrf("/h/river/reports/monthly", {"month": "2026-10"})
    worker()
    export_id = only_export().id
    page = client.get("/h/river/reports/").get_data(as_text=True)
    assert "does not reconcile" in page and "Retry" in page
    assert client.get(f"/h/river/reports/{export_id}/download").status_code == 404
    assert client.post_with_csrf(f"/h/river/reports/{export_id}/retry").status_code == 303
    assert only_export().status == "QUEUED"

    summary = client.get("/h/river/reports/months/2026-10")
    assert summary.status_code == 409 and "This month does not reconcile" in summary.get_data(as_text=True)


def test_month_page_shows_the_figures_corrections_and_stored_versions(river, client, login_as):
    host, admin, accountant, rowers = river
    periods.close_month(host, admin, "2026-10")
    login_as(accountant)
    page = client.get("/h/river/reports/months/2026-10").get_data(as_text=True)
    assert 'data-collective="rowers"' in page and "$520.80" in page and "$586.80" in page
    assert 'id="host-fee-income">$12.00<' in page and "Version 1" in page
    assert 'data-labels=\'["Harbour Choir", "River Rowers"]\'' in page and 'data-in=\'["70.00", "100.00"]\'' in page
    assert '<tr data-month="2026-10"><th scope="row">' in page and page.count("<tr data-month=") == 12
    assert '"2025-11"' in page and "chart-4.6.1.umd.min.js" in page
    [stored] = db.session.query(ReportExport).filter(ReportExport.closed_period_id.is_not(None)).all()
    download = client.get(f"/h/river/reports/{stored.id}/download")
    assert download.status_code == 200 and "monthly-2026-10-closed-v1.csv" in download.headers["Content-Disposition"]
    assert client.get("/h/river/reports/months/2026-99").status_code == 404


def test_audit_trail_filters_pages_by_keyset_and_exports_csv(river, client, login_as):
    host, admin, accountant, rowers = river
    for day in range(1, 56):
        add(host, admin, rowers, 100 + day, utc(2026, 11, 5, 12), host_fee_bps=0, description=f"Gift {day}")
    periods.close_month(host, admin, "2026-09", reason="Books done")
    login_as(accountant)

    first = client.get("/h/river/reports/audit?action=funds").get_data(as_text=True)
    assert first.count('data-action="funds.add"') == 50 and "Older entries" in first
    assert 'data-action="period.close"' not in first
    older = client.get("/h/river/reports/audit?action=funds&before=999999", headers=HTMX)
    assert older.status_code == 200 and "<h1>" not in older.get_data(as_text=True)
    before = re.search(r'before=(\d+)', first).group(1)
    second = client.get(f"/h/river/reports/audit?action=funds&before={before}").get_data(as_text=True)
    assert second.count('data-action="funds.add"') == 59 - 50 and "Older entries" not in second

    closing = client.get("/h/river/reports/audit?action=period.close").get_data(as_text=True)
    assert "Books done" in closing and f"<td>{admin.email}</td>" in closing
    nothing = client.get("/h/river/reports/audit?object_id=abc&from=never&user=%00").get_data(as_text=True)
    assert "audit-" in nothing

    exported = client.get("/h/river/reports/audit.csv?action=period")
    lines = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert exported.status_code == 200 and [line["action"] for line in lines] == ["period.close"]
    assert lines[0]["reason"] == "Books done" and lines[0]["user"] == admin.email


def test_reports_pages_need_a_login(river, client):
    for path in ("/h/river/reports/", "/h/river/reports/audit", "/h/river/reports/months/2026-10"):
        assert client.get(path).status_code == 302


@pytest.mark.parametrize("path", [
    "/h/river/reports/99999999999999999999/download", "/h/river/reports/2147483648/progress",
    "/h/river/reports/audit?object_id=99999999999999999999&before=4294967296&from=2026-02-30",
    "/h/river/reports/audit.csv?object_id=%EF%BC%91&user=\x01", "/h/river/reports/months/%00",
])
def test_arbitrary_ids_and_text_in_report_urls_never_cause_a_server_error(any_app, path):
    admin_email = october_world()[1].email
    client = any_app.test_client()
    assert client.login(admin_email, PASSWORD).status_code == 302
    assert client.get(path).status_code in (200, 404)
