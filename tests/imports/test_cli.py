"""`flask imports rows ITEM --format csv`."""
import csv
import io

from tests.factories import make_bank_account, make_host, make_import, make_import_row


def test_rows_csv_neutralises_formulas_and_keeps_amounts_numeric(app, db):
    host = make_host(slug="river")
    account = make_bank_account(host)
    imp = make_import(host, bank_account=account)
    make_import_row(imp, amount=-1250, bank_account=account, description="=cmd|' /C calc'!A0",
                    merchant_name='+HYPERLINK("http://evil.example","click")', note="@SUM(1+1)")
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["imports", "rows", str(account.item_id)])
    assert result.exit_code == 0, result.output

    row = list(csv.DictReader(io.StringIO(result.output)))[0]
    assert row["amount"] == "-12.50"
    assert row["description"] == "'=cmd|' /C calc'!A0"
    assert row["merchant_name"] == '\'+HYPERLINK("http://evil.example","click")'
    assert row["note"] == "'@SUM(1+1)"
