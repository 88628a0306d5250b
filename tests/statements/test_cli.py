"""`flask imports upload` and `flask imports rows --host --import`: the contract the issue writes."""
import csv
import io
import json

from hostadmin.extensions import db
from hostadmin.imports.models import TransactionsImport
from tests.factories import make_host

STATEMENT = ("Booking date;Text;Amount;Cr/Dr\n22.02.18;Rent February;700,00;DR\n"
             "13.02.18;Donation club;1.250,00;CR\n14.02.18;Broken;abc;CR\n;Closing balance;550,00;CR\n")


def invoke(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def write(tmp_path, name, text, codec="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(codec))
    return str(path)


def test_upload_creates_the_import_prints_the_mapping_and_the_counts_and_exits_1_on_invalid(app, db, tmp_path):
    make_host(slug="river", currency="EUR")
    db.session.commit()
    path = write(tmp_path, "feb.csv", STATEMENT, "cp1252")

    result = invoke(app, "imports", "upload", "--host", "river", "--import", "Sparkasse", path,
                    "--account", "DE12 3456")

    assert result.exit_code == 1
    last = result.stdout.strip().splitlines()[-1]
    assert last == "new 2, already imported 0, invalid 1, skipped 1"
    mapping = json.loads(result.stdout[:result.stdout.rindex("}") + 1])
    assert (mapping["date"], mapping["date_format"], mapping["direction"], mapping["decimal_comma"]) == \
        ("Booking date", "%d.%m.%y", {"column": "Cr/Dr", "in": ["CR"]}, True)
    imp = db.session.query(TransactionsImport).filter_by(name="Sparkasse").one()
    assert imp.csv_mapping["account"] == "DE12 3456"

    again = invoke(app, "imports", "upload", "--host", "river", "--import", "Sparkasse", path)
    assert again.stdout.strip().splitlines()[-1] == "new 0, already imported 2, invalid 1, skipped 1"


def test_upload_with_a_mapping_file_and_dry_run_exits_0_and_writes_nothing(app, db, tmp_path):
    make_host(slug="river", currency="EUR")
    db.session.commit()
    path = write(tmp_path, "a.csv", "x;y;z\n2026-11-01;Gift;5,00\n2026-11-02;Fee;1,00\n")
    mapping = write(tmp_path, "m.json", json.dumps({"header_line": 1, "date": "#1", "date_format": "%Y-%m-%d",
                                                    "description": ["y"], "amount": "z", "negate": True,
                                                    "decimal_comma": True, "fixed_currency": "CHF",
                                                    "skip": [{"column": "y", "equals": ["Fee"]}]}))

    result = invoke(app, "imports", "upload", "--host", "river", "--import", "Post", path, "--mapping", mapping,
                    "--dry-run")

    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == "new 1, already imported 0, invalid 0, skipped 1"
    assert db.session.query(TransactionsImport).filter_by(name="Post").count() == 0


def test_upload_refuses_unknown_mapping_keys_and_hosts(app, db, tmp_path):
    make_host(slug="river")
    db.session.commit()
    path = write(tmp_path, "a.csv", "Date,Memo,Amount\n2026-11-01,Gift,5.00\n")
    bad = write(tmp_path, "m.json", json.dumps({"colour": "red"}))

    assert "unknown mapping keys: colour" in invoke(app, "imports", "upload", "--host", "river", "--import", "X",
                                                    path, "--mapping", bad).output
    nohost = invoke(app, "imports", "upload", "--host", "nope", "--import", "X", path)
    assert nohost.exit_code == 1 and "no host with slug 'nope'" in nohost.output


def test_rows_of_any_import_by_host_and_name_with_the_line_column(app, db, tmp_path):
    make_host(slug="river", currency="EUR")
    db.session.commit()
    path = write(tmp_path, "feb.csv", "Date;Memo;Amount\n2026-11-01;=SUM(A1);5,00\n")
    invoke(app, "imports", "upload", "--host", "river", "--import", "Post", path)

    result = invoke(app, "imports", "rows", "--host", "river", "--import", "Post", "--format", "csv")

    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == ["source_id", "account_id", "date", "amount", "currency", "description",
                             "merchant_name", "pending", "status", "removed", "note", "line"]
    assert (rows[0]["amount"], rows[0]["description"], rows[0]["line"], rows[0]["status"]) == \
        ("5.00", "'=SUM(A1)", "2", "PENDING")
    missing = invoke(app, "imports", "rows", "--host", "river", "--import", "Nope")
    assert missing.exit_code == 1 and "has no import called 'Nope'" in missing.output
    assert invoke(app, "imports", "rows").exit_code == 2
