"""Rows list: filters, keyset pages that never skip or repeat a row, counts per status."""
from datetime import date, timedelta

import pytest

from hostadmin.imports import queries
from hostadmin.imports.forms import Filters
from tests.factories import make_bank_account, make_host, make_import, make_import_row, make_user


@pytest.fixture
def world(db):
    host = make_host(slug="river")
    checking, savings = make_bank_account(host, "Checking"), make_bank_account(host, "Savings")
    imp = make_import(host, bank_account=checking)
    rows = []
    for i in range(23):
        rows.append(make_import_row(imp, amount=(i + 1) * 100 * (1 if i % 2 else -1),
                                    date=date(2026, 11, 1) + timedelta(days=i % 7),
                                    bank_account=checking if i % 3 else savings,
                                    description=f"Line {i}", merchant_name="Coffee Co" if i == 5 else None))
    return host, imp, rows, checking, savings


@pytest.mark.parametrize("sort", ["date_desc", "date_asc", "amount_desc", "amount_asc"])
def test_keyset_pages_cover_every_row_once_in_order(world, sort):
    host, imp, rows, *_ = world
    seen, after = [], None
    while True:
        page = queries.page_of_rows(host, Filters(sort=sort), imp.id, after=after, size=5)
        seen += page.rows
        if not page.next_cursor:
            break
        after = page.next_cursor
    assert sorted(r.id for r in seen) == sorted(r.id for r in rows)
    keys = [((r.amount if sort.startswith("amount") else r.date), r.id) for r in seen]
    assert keys == sorted(keys, reverse=sort.endswith("desc"))


def test_filters_by_direction_account_dates_amount_and_text(world):
    host, imp, rows, checking, savings = world
    def ids(**kw):
        return {r.id for r in queries.page_of_rows(host, Filters(**kw), imp.id, size=100).rows}
    assert ids(direction="in") == {r.id for r in rows if r.amount > 0}
    assert ids(account=savings.id) == {r.id for r in rows if r.bank_account_id == savings.id}
    assert ids(date_from=date(2026, 11, 6)) == {r.id for r in rows if r.date >= date(2026, 11, 6)}
    assert ids(min_amount=500, max_amount=700) == {r.id for r in rows if 500 <= abs(r.amount) <= 700}
    assert ids(q="coffee") == {rows[5].id}
    assert ids(q="line 1") == {r.id for r in rows if r.description.startswith("Line 1")}
    assert ids(q="100%") == set()


def test_an_uploaded_statement_is_a_bank_account_to_filter_by(world, client, login_as):
    host, imp, rows, checking, _ = world
    statement = make_import(host, name="Sparkasse", source="CSV")
    statement.csv_mapping = {"account": "DE12 3456"}
    uploaded = make_import_row(statement, description="Spende Grace")

    assert queries.statement_accounts(host) == [(statement.id, "DE12 3456")]
    chosen = Filters.from_args({"account": f"s{statement.id}"}, "USD")
    assert (chosen.statement, chosen.account, chosen.to_args()) == (statement.id, None, {"account": f"s{statement.id}"})
    everything = {r.id for r in queries.page_of_rows(host, chosen, None, size=100).rows}
    assert everything == {uploaded.id}

    login_as(make_user(host))
    page = client.get(f"/h/river/imports/rows?account=s{statement.id}").get_data(as_text=True)
    assert f'<option value="s{statement.id}" selected>DE12 3456</option>' in page
    assert "Spende Grace" in page and "Line 1" not in page


def test_status_counts_follow_the_other_filters(world, clock):
    host, imp, rows, *_ = world
    rows[0].status, rows[1].status, rows[2].needs_review, rows[3].removed_at = "IGNORED", "LINKED", True, clock.now
    counts = queries.status_counts(host, Filters(), imp.id)
    # The removed row left "To do" (nothing to triage) but is still listed under "All".
    assert counts == {"PENDING": 20, "ON_HOLD": 0, "IGNORED": 1, "LINKED": 1, "ALL": 23, "REVIEW": 1, "REMOVED": 1,
                      "partial": False}
    searched = queries.status_counts(host, Filters(q="line"), imp.id)
    assert searched == {**counts, "partial": False}
    assert queries.status_counts(host, Filters(direction="in"), imp.id)["ALL"] == 11


def test_new_rows_are_counted_without_moving_the_list(world):
    host, imp, rows, *_ = world
    since = queries.newest_row_id(host)
    make_import_row(imp, description="Arrived later")
    assert queries.new_rows_count(host, Filters(), since, imp.id) == 1
    assert queries.new_rows_count(host, Filters(q="nothing like it"), since, imp.id) == 0


def test_filters_round_trip_through_the_url():
    filters = Filters.from_args({"status": "ignored", "dir": "in", "from": "2026-11-01", "min": "12.50",
                                 "q": "rent", "sort": "amount_asc", "account": "3"}, "USD")
    assert Filters.from_args(filters.to_args(), "USD") == filters
    statement = Filters.from_args({"account": "s7"}, "USD")
    assert Filters.from_args(statement.to_args(), "USD") == statement and statement.statement == 7
    broken = Filters.from_args({"from": "yesterday", "min": "lots", "sort": "random"}, "USD")
    assert broken.date_from is None and broken.sort == "date_desc" and len(broken.errors) == 2


@pytest.mark.parametrize("currency,typed,minor,shown", [
    ("JPY", "1000", 1000, "1000"), ("USD", "1,000.5", 100050, "1000.50"), ("KWD", "1.234", 1234, "1.234")])
def test_amount_filters_use_the_host_currencys_decimals(currency, typed, minor, shown):
    filters = Filters.from_args({"min": typed, "max": typed}, currency)
    assert (filters.min_amount, filters.max_amount, filters.errors) == (minor, minor, ())
    assert filters.money_text("min_amount") == shown and filters.to_args()["max"] == shown
    assert Filters.from_args(filters.to_args(), currency) == filters


@pytest.mark.parametrize("typed,error", [
    ("１２３", "“１２３” is not an amount"), ("²", "“²” is not an amount"),
    ("12.5", "“12.5” has too many decimals: JPY amounts have no decimals"),
    ("99999999999999999999", "“99999999999999999999” is too large: the largest amount is 999,999,999,999,999 JPY")])
def test_amount_filters_refuse_unicode_digits_extra_decimals_and_huge_numbers(typed, error):
    filters = Filters.from_args({"min": typed}, "JPY")
    assert filters.min_amount is None and filters.errors == (error,)


def test_counts_stop_at_the_cap_and_say_so(world, monkeypatch):
    host, imp, rows, *_ = world
    monkeypatch.setattr(queries, "COUNT_CAP", 10)
    counts = queries.status_counts(host, Filters(), imp.id)
    assert counts["PENDING"] == 11 and queries.count_label(counts, "PENDING") == "10+"
    assert queries.count_label(counts, "ON_HOLD") == "0"
    searched = queries.status_counts(host, Filters(q="line"), imp.id)
    assert searched["partial"] and queries.count_label(searched, "PENDING") == "10+"
    assert queries.status_counts(host, Filters(q="line 2"), imp.id)["PENDING"] == 4  # 2, 20, 21, 22
