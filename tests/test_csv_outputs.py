"""CSV outputs beyond the ones with their own tests: a name a spreadsheet would run as a formula is text."""
import csv
import io

from tests.funds.conftest import cli  # noqa: F401  (the fixture)


def test_collective_balances_csv_writes_a_formula_like_name_as_text_and_the_balance_as_a_number(app, cli):
    assert cli("hosts", "create", "river", "--name", "River Host", "--currency", "USD").exit_code == 0
    for slug, name in [("evil", "=cmd|' /C calc'!A0"), ("link", '+HYPERLINK("http://x.example","y")'),
                       ("plain", "River Rowers")]:
        assert cli("collectives", "create", "--host", "river", slug, "--name", name).exit_code == 0

    result = cli("collectives", "balances", "--host", "river", "--format", "csv")

    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows == [["slug", "name", "balance", "currency"],
                    ["evil", "'=cmd|' /C calc'!A0", "0.00", "USD"],
                    ["link", "'+HYPERLINK(\"http://x.example\",\"y\")", "0.00", "USD"],
                    ["plain", "River Rowers", "0.00", "USD"]]
