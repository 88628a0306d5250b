"""Reports and exports built by a real RQ SimpleWorker: progress, files, stored closed months, failures."""
import csv
import io
import zipfile
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask import current_app
from rq.job import Job
from sqlalchemy import inspect

from hostadmin import csvsafe
from hostadmin.extensions import db, queues
from hostadmin.funds import periods, service as funds
from hostadmin.ledger import service as ledger
from hostadmin.ledger.models import Host, LedgerKind
from hostadmin.reports import exports, files, service
from hostadmin.reports.models import ReportExport
from tests.factories import make_contributor
from tests.reports.helpers import OCTOBER, add, october_world, utc

HEADER = "collective,opening,contributions,added_funds,expenses,host_fees,processor_fees,corrections,closing,currency"


@pytest.fixture
def world(any_app):
    return october_world()


def reload(export):
    """The row as the database has it now (a job's end removes the test's session)."""
    return db.session.get(ReportExport, inspect(export).identity[0], populate_existing=True)


def read(export):
    return files.path_of(reload(export).file_name).read_text(encoding="utf-8")


def test_the_monthly_report_job_writes_the_checked_csv_and_reports_progress(world, worker):
    host, user = world[:2]
    export = service.request_monthly(host, user, "2026-10")
    assert (export.status, export.progress) == ("QUEUED", 0)

    worker()

    export = reload(export)
    assert (export.status, export.progress, export.row_count, export.error) == ("DONE", 100, 3, None)
    assert read(export) == HEADER + "\n" + "".join(",".join(row) + "\n" for row in OCTOBER)
    assert export.file_size == files.path_of(export.file_name).stat().st_size
    assert export.expires_at == current_app.clock.now + timedelta(days=7)
    assert Job.fetch(export.job_id, connection=queues.connection).meta["progress"] == 100
    assert export.data["total"]["closing"] == 58680


def test_the_ledger_export_has_one_signed_line_per_row_and_every_group_sums_to_zero(world, worker):
    host, user, rowers = world[:3]
    add(host, user, rowers, 1234, utc(2026, 10, 30, 12), host_fee_bps=0,
        description='=HYPERLINK("x"), "quoted", comma\nnew line, café')
    export = service.request_ledger(host, user, date(2026, 10, 1), date(2026, 10, 31), by="effective")
    worker()
    export = reload(export)

    lines = list(csv.DictReader(io.StringIO(read(export))))
    assert export.row_count == len(lines) == 6 + 4 + 2 + 2 + 2  # added funds with both fees, gift, expense, two adds
    sums = defaultdict(Decimal)
    for line in lines:
        sums[line["group_id"]] += Decimal(line["amount"])
    assert set(sums.values()) == {Decimal("0.00")}
    assert {line["effective_date"] for line in lines} <= {f"2026-10-{day:02d}" for day in range(1, 32)}
    assert "2026-10-31" in {line["effective_date"] for line in lines}  # 1 Nov 03:00 UTC is 31 Oct in New York
    odd = [line for line in lines if "café" in line["description"]][0]
    assert odd["description"] == "'" + '=HYPERLINK("x"), "quoted", comma new line, café'  # one line: clean_line
    assert list(lines[0]) == ["effective_date", "recorded_date", "kind", "type", "account", "counterparty",
                              "amount", "currency", "group_id", "corrects_group_id", "description"]


def test_the_ledger_export_by_recorded_date_counts_the_day_rows_were_written(world, worker):
    host, user = world[:2]
    export = service.request_ledger(host, user, date(2026, 11, 20), date(2026, 11, 20), by="recorded",
                                    columns=["recorded_date", "amount"], fmt="xlsx")
    worker()
    export = reload(export)
    assert export.status == "DONE" and export.row_count == 4 + 6 + 4 + 2 + 2 + 2  # every row so far
    with zipfile.ZipFile(files.path_of(export.file_name)) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert "recorded_date" in sheet and "2026-11-20" in sheet


def test_a_closed_months_stored_report_never_changes_and_reopening_adds_a_version(world, worker):
    host, user, rowers, choir, october = world
    periods.close_month(host, user, "2026-10")
    [first] = service.stored_versions(host, "2026-10")
    first_text = read(first)
    assert first_text.splitlines()[1:] == [",".join(row) for row in OCTOBER]

    funds.edit_funds(host, user, october.id, reason="Cheque was 90", amount=9000)
    assert read(first) == first_text
    periods.reopen_month(host, user, "2026-10", reason="Late cheque")
    add(host, user, choir, 500, utc(2026, 10, 28, 12), host_fee_bps=0)
    periods.close_month(host, user, "2026-10")

    old, new = service.stored_versions(host, "2026-10")
    assert (old.id, old.version, new.version) == (first.id, 1, 2)
    assert read(old) == first_text
    assert read(new).splitlines()[1] == "choir,0.00,50.00,25.00,0.00,-4.00,0.00,0.00,71.00,USD"
    assert service.download_name(new) == "monthly-2026-10-closed-v2.csv"


def test_a_report_that_does_not_reconcile_fails_with_the_reason_and_can_be_retried(world, worker):
    host, user, rowers = world[:3]
    stranger = make_contributor(host, "Someone")
    ledger.record_group(host, [ledger.Entry(rowers, stranger, -500, LedgerKind.HOST_FEE),
                               ledger.Entry(stranger, rowers, 500, LedgerKind.HOST_FEE)],
                        currency="USD", cleared_at=utc(2026, 10, 25, 12), description="Misfiled fee")
    db.session.commit()
    export = service.request_monthly(host, user, "2026-10")
    worker()

    export = reload(export)
    assert export.status == "FAILED" and "does not reconcile" in export.error
    assert export.file_name is None and not list(files.reports_dir().iterdir())
    assert service.can_retry(export)
    service.retry(export)
    assert (export.status, export.error, export.job_id) == ("QUEUED", None, f"report-export-{export.id}-2")


def test_closing_a_month_whose_report_does_not_reconcile_is_refused(world):
    host, user, rowers = world[:3]
    stranger = make_contributor(host, "Someone")
    ledger.record_group(host, [ledger.Entry(rowers, stranger, -500, LedgerKind.HOST_FEE),
                               ledger.Entry(stranger, rowers, 500, LedgerKind.HOST_FEE)],
                        currency="USD", cleared_at=utc(2026, 10, 25, 12), description="Misfiled fee")
    db.session.commit()
    with pytest.raises(Exception, match="does not reconcile"):
        periods.close_month(host, user, "2026-10")
    assert periods.closed_months(host) == [] and db.session.query(ReportExport).count() == 0
    assert not list(files.reports_dir().iterdir())


def test_expired_files_are_removed_but_stored_months_are_kept(world, worker):
    host, user = world[:2]
    periods.close_month(host, user, "2026-09")
    export = service.request_monthly(host, user, "2026-10")
    worker()
    export = reload(export)
    path = files.path_of(export.file_name)

    assert service.expire_files(current_app.clock.now + timedelta(days=6)) == 0
    assert service.expire_files(current_app.clock.now + timedelta(days=8)) == 1
    assert not path.exists() and export.status == "EXPIRED"
    [stored] = service.stored_versions(db.session.get(Host, inspect(host).identity[0]), "2026-09")
    assert files.path_of(stored.file_name).exists()


def test_postgres_copy_export_has_the_same_cells_as_the_streamed_rows(pg_app, tmp_path):
    host, user, rowers = october_world()[:3]
    add(host, user, rowers, 1234, utc(2026, 10, 30, 12), host_fee_bps=0,
        description='=HYPERLINK("x"), "quoted", comma, café')
    add(host, user, rowers, 99, utc(2026, 10, 30, 13), host_fee_bps=0, description="-12.50")
    add(host, user, rowers, 98, utc(2026, 10, 30, 14), host_fee_bps=0, description="+ plus @ at")
    for by in ("effective", "recorded"):
        wanted = exports.LedgerRange(date(2026, 9, 1), date(2026, 11, 30), by, exports.ALL_COLUMNS)
        python_rows = [[str(csvsafe.safe_cell(cell)) for cell in row] for row in exports.rows(host, wanted)]
        copied = b"".join(exports.copy_chunks(host, wanted)).decode("utf-8")
        assert list(csv.reader(io.StringIO(copied))) == python_rows
        assert len(python_rows) > 20
    count, _ = exports.write(host, wanted, "csv", tmp_path / "out.csv")
    assert count == len(python_rows) - 1
