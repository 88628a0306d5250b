"""CSV statement uploads: mapping, validation of every line, stable source ids, re-uploads."""
from datetime import date

import pytest

from hostadmin.imports import csv_import
from hostadmin.imports.forms import InputError
from hostadmin.imports.models import ImportRow, ImportRun
from tests.factories import make_host, make_user

STATEMENT = """Date,Description,Amount,Reference
2026-11-01,Donation from Ada,125.00,
2026-11-02,Bank fee,-3.50,
2026-11-02,Bank fee,-3.50,
2026-11-03,Grant ACME,"1,000.00",REF-77
"""
MAPPING = {"date": "Date", "date_format": "%Y-%m-%d", "description": "Description", "amount": "Amount",
           "reference": "Reference", "fixed_currency": "USD"}


@pytest.fixture
def world(db):
    host = make_host(slug="river")
    admin = make_user(host)
    imp = csv_import.create_csv_import(host, admin, "Credit Union checking", "CU 1234")
    return host, admin, imp


def test_preview_writes_nothing_and_counts_new_lines(world):
    host, admin, imp = world
    result = csv_import.preview(imp, STATEMENT, MAPPING)
    assert (len(result.new_lines), result.already_imported, result.invalid) == (4, 0, [])
    assert [line.amount for line in result.lines] == [12500, -350, -350, 100000]
    assert ImportRow.query.count() == 0


def test_import_then_reupload_imports_only_new_lines(world):
    host, admin, imp = world
    run = csv_import.import_csv(host, admin, imp, STATEMENT, MAPPING, "november.csv")
    assert (run.added, run.duplicates, run.invalid, run.trigger) == (4, 0, 0, "upload")

    overlapping = STATEMENT + "2026-11-04,Donation from Grace,40.00,\n"
    again = csv_import.import_csv(host, admin, imp, overlapping, MAPPING, "november-2.csv")

    assert (again.added, again.duplicates) == (1, 4)
    assert ImportRow.query.count() == 5
    assert ImportRow.query.filter_by(source_id="ref:REF-77").one().amount == 100000
    assert ImportRun.query.count() == 2


def test_identical_lines_are_kept_apart_by_their_occurrence_number(world):
    host, admin, imp = world
    csv_import.import_csv(host, admin, imp, STATEMENT, MAPPING, "a.csv")
    fees = ImportRow.query.filter_by(description="Bank fee").all()
    assert len(fees) == 2 and fees[0].source_id != fees[1].source_id
    # A later statement that holds only one of the two identical fees adds nothing.
    partial = "Date,Description,Amount,Reference\n2026-11-02,Bank fee,-3.50,\n"
    assert csv_import.import_csv(host, admin, imp, partial, MAPPING, "b.csv").added == 0


def test_every_bad_line_is_listed_by_line_number(world):
    host, admin, imp = world
    bad = ("Date,Description,Amount,Currency\n2026-11-01,Ok,1.00,USD\n2026-13-01,Bad date,1.00,USD\n"
           "2026-11-02,Bad amount,12abc,USD\n2026-11-03,No currency,2.00,\n")
    mapping = {**MAPPING, "reference": "", "currency": "Currency", "fixed_currency": ""}
    result = csv_import.preview(imp, bad, mapping)
    assert [(p["line"], p["error"].split(" ")[0]) for p in result.invalid] == [
        (3, "“2026-13-01”"), (4, "“12abc”"), (5, "the")]
    run = csv_import.import_csv(host, admin, imp, bad, mapping, "bad.csv")
    assert (run.added, run.invalid) == (1, 3) and run.invalid_details[0]["line"] == 3


def test_debit_and_credit_columns_and_other_date_formats(world):
    host, admin, imp = world
    text = "Posted;Details;Debit;Credit\n20/11/2026;Rent;1.200,00;\n21/11/2026;Gift;;50,00\n"
    mapping = {"date": "Posted", "date_format": "%d/%m/%Y", "description": "Details", "debit": "Debit",
               "credit": "Credit", "fixed_currency": "EUR", "decimal_comma": True}
    result = csv_import.preview(imp, text, mapping)
    assert [(l.date, l.amount, l.currency) for l in result.lines] == [
        (date(2026, 11, 20), -120000, "EUR"), (date(2026, 11, 21), 5000, "EUR")]


def test_the_mapping_is_remembered_for_the_next_upload(world):
    host, admin, imp = world
    csv_import.import_csv(host, admin, imp, STATEMENT, MAPPING, "a.csv")
    guessed = csv_import.guess_mapping(["Date", "Description", "Amount", "Reference"], imp.csv_mapping)
    assert guessed["fixed_currency"] == "USD" and guessed["reference"] == "Reference"
    assert imp.csv_mapping["account"] == "CU 1234"


def test_a_mapping_without_an_amount_is_refused(world):
    host, admin, imp = world
    result = csv_import.preview(imp, STATEMENT, {**MAPPING, "amount": ""})
    assert result.error == "Choose the amount column, or the debit and credit columns."
    with pytest.raises(InputError):
        csv_import.import_csv(host, admin, imp, STATEMENT, {**MAPPING, "amount": ""}, "a.csv")
    assert ImportRow.query.count() == 0
