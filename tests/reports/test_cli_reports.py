"""`flask reports monthly` and `flask ledger export`: the contract columns, refusals exit 1."""
import csv
from collections import defaultdict
from decimal import Decimal

import pytest

from hostadmin.extensions import db
from hostadmin.ledger import service as ledger
from hostadmin.ledger.models import LedgerKind
from tests.factories import make_contributor
from tests.reports.helpers import OCTOBER, add, october_world, utc


@pytest.fixture
def world(app):
    return october_world()


def test_reports_monthly_writes_one_row_per_collective_then_total(world, cli, tmp_path):
    out = tmp_path / "october.csv"
    result = cli("reports", "monthly", "--host", "river", "--month", "2026-10", "--out", out)
    assert result.exit_code == 0, result.output
    assert out.read_text().splitlines() == [
        "collective,opening,contributions,added_funds,expenses,host_fees,processor_fees,corrections,closing,currency",
        *(",".join(row) for row in OCTOBER)]
    assert "2026-10: 2 collectives and TOTAL written to" in result.stdout


def test_reports_monthly_refuses_a_bad_month_an_unknown_host_and_a_ledger_that_does_not_reconcile(world, cli,
                                                                                                   tmp_path):
    host, _, rowers = world[:3]
    out = tmp_path / "r.csv"
    assert "month must look like 2026-11" in cli("reports", "monthly", "--host", "river", "--month", "Oct",
                                                 "--out", out).stderr
    assert "no host with slug 'lake'" in cli("reports", "monthly", "--host", "lake", "--month", "2026-10",
                                             "--out", out).stderr
    stranger = make_contributor(host, "Someone")
    ledger.record_group(host, [ledger.Entry(rowers, stranger, -500, LedgerKind.HOST_FEE),
                               ledger.Entry(stranger, rowers, 500, LedgerKind.HOST_FEE)],
                        currency="USD", cleared_at=utc(2026, 10, 25, 12), description="Misfiled fee")
    db.session.commit()
    result = cli("reports", "monthly", "--host", "river", "--month", "2026-10", "--out", out)
    assert result.exit_code == 1 and "does not reconcile" in result.stderr
    assert not out.exists() and not list(tmp_path.glob("*.partial*")) and not list(tmp_path.glob(".r.csv*"))


def test_ledger_export_lines_sum_to_zero_per_group_and_the_end_date_is_inclusive(world, cli, tmp_path):
    host, user, rowers = world[:3]
    out = tmp_path / "ledger.csv"
    result = cli("ledger", "export", "--host", "river", "--from", "2026-10-01", "--to", "2026-10-31",
                 "--by", "effective", "--out", out)
    assert result.exit_code == 0, result.output
    lines = list(csv.DictReader(out.open(encoding="utf-8")))
    assert set(lines[0]) >= {"effective_date", "recorded_date", "kind", "type", "account", "counterparty", "amount",
                             "currency", "group_id", "corrects_group_id", "description"}
    assert len(lines) == 6 + 4 + 2 + 2  # the 31 October (New York) deposit is in: the end date is inclusive
    sums = defaultdict(Decimal)
    for line in lines:
        sums[line["group_id"]] += Decimal(line["amount"])
    assert set(sums.values()) == {Decimal("0.00")}
    assert result.stdout.strip() == f"14 ledger rows written to {out}"

    by_recorded = cli("ledger", "export", "--host", "river", "--from", "2026-10-01", "--to", "2026-10-31",
                      "--by", "recorded", "--out", tmp_path / "recorded.csv")
    assert by_recorded.stdout.startswith("0 ledger rows")  # everything was recorded on 20 November


def test_ledger_export_refuses_a_reversed_range_and_unknown_columns(world, cli, tmp_path):
    out = tmp_path / "x.csv"
    reversed_range = cli("ledger", "export", "--host", "river", "--from", "2026-10-31", "--to", "2026-10-01",
                         "--out", out)
    assert reversed_range.exit_code == 1 and "ends (2026-10-01) before it starts" in reversed_range.stderr
    unknown = cli("ledger", "export", "--host", "river", "--from", "2026-10-01", "--to", "2026-10-31",
                  "--columns", "amount,secret", "--out", out)
    assert unknown.exit_code == 1 and "unknown columns: secret" in unknown.stderr
    assert cli("ledger", "export", "--host", "river", "--from", "2026-10-01", "--to", "2026-10-31", "--by",
               "posted", "--out", out).exit_code == 2
    assert not out.exists()
