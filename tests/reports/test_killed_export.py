"""A worker killed mid-export (SIGKILL) leaves no file offered for download, and the export can be retried."""
import signal
import time
from datetime import date

import psutil
from sqlalchemy import text

from hostadmin.extensions import db
from hostadmin.reports import files, service
from hostadmin.reports.models import ReportExport
from tests.reports.helpers import october_world
from tests.support.processes import flask_env, start_flask

COPIES = 60_000  # of a two-row expense group: enough rows that the export is still running when killed


def copy_group(group_id, copies):
    """Insert `copies` balanced copies of a ledger group (same dates and accounts), fast, on either database."""
    db.session.execute(text(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :copies) "
        "INSERT INTO ledger_transactions (host_id, group_id, kind, type, account_id, counterparty_id, amount, "
        "currency, amount_in_host_currency, host_currency, description, is_refund, created_at, cleared_at) "
        "SELECT t.host_id, substr(t.group_id, 1, 24) || '-' || CAST(n.i AS VARCHAR(11)), t.kind, t.type, "
        "t.account_id, t.counterparty_id, t.amount, t.currency, t.amount_in_host_currency, t.host_currency, "
        "t.description, t.is_refund, t.created_at, t.cleared_at FROM ledger_transactions t, n "
        "WHERE t.group_id = :group"), {"copies": copies, "group": group_id})
    db.session.commit()


def test_an_export_killed_mid_way_offers_no_half_file_and_its_retry_completes(app, tmp_path, client, login_as, worker):
    host, user = october_world()[:2]
    expense_group = db.session.execute(text(
        "SELECT group_id FROM ledger_transactions WHERE kind = 'EXPENSE' LIMIT 1")).scalar()
    copy_group(expense_group, COPIES)
    export = service.request_ledger(host, user, date(2026, 10, 1), date(2026, 10, 31))
    export_id, reports = export.id, files.reports_dir()

    env = flask_env(app, tmp_path, REPORTS_DIR=reports)
    process = start_flask(env, "worker", "--burst", "reports")
    try:
        deadline = time.monotonic() + 60
        while not list(reports.glob(".*.partial-*")):
            assert process.poll() is None, process.stdout.read()
            assert time.monotonic() < deadline, "the export never started writing"
            time.sleep(0.02)
        time.sleep(0.2)
    finally:
        # The worker and the work horse it forked (in a process group of its own) die together, as when
        # their machine is lost: a horse that outlived its worker would still be exporting.
        doomed = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
        for each in doomed:
            each.send_signal(signal.SIGKILL)
        process.wait(10)
        assert not psutil.wait_procs(doomed, timeout=10)[1]

    db.session.expire_all()
    killed = db.session.get(ReportExport, export_id)
    assert killed.status == "RUNNING" and killed.file_name is None
    assert not [path for path in reports.iterdir() if not path.name.startswith(".")]
    login_as(user)
    assert client.get(f"/h/{host.slug}/reports/{export_id}/download").status_code == 404
    assert service.can_retry(killed)
    assert "Retry" in client.get(f"/h/{host.slug}/reports/").get_data(as_text=True)

    assert client.post_with_csrf(f"/h/{host.slug}/reports/{export_id}/retry").status_code == 303
    worker()
    done = db.session.get(ReportExport, export_id)
    assert (done.status, done.row_count) == ("DONE", 6 + 4 + 2 + 2 + 2 * COPIES)
    lines = files.path_of(done.file_name).read_text().splitlines()
    assert len(lines) == 1 + done.row_count
