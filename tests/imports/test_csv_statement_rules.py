"""CSV statements rule by rule: signs, blank and short lines, references, currencies, stable ids, big files."""
from datetime import date

import pytest
from sqlalchemy import select

from hostadmin.audit.models import AuditEntry
from hostadmin.imports import csv_import
from hostadmin.imports.forms import InputError
from hostadmin.imports.models import ImportRow
from tests.factories import make_host, make_user

HEADER = "Date,Description,Amount,Reference\n"
MAPPING = {"date": "Date", "date_format": "%Y-%m-%d", "description": "Description", "amount": "Amount",
           "reference": "Reference", "fixed_currency": "USD"}


@pytest.fixture
def world(db):
    host = make_host(slug="river")
    admin = make_user(host)
    imp = csv_import.create_csv_import(host, admin, "Credit Union checking", "CU 1234")
    return host, admin, imp


def amounts(result):
    return [line.amount for line in result.lines]


def errors(result):
    return [(item["line"], item["error"]) for item in result.invalid]


def statement(*lines):
    return HEADER + "".join(line + "\n" for line in lines)


# ---------------------------------------------------------------- formats and column names (quick: first)

@pytest.mark.parametrize("date_format, text, example", [
    ("%Y-%m-%d", "2026-11-20", "2026-11-20"), ("%m/%d/%Y", "11/20/2026", "11/20/2026"),
    ("%d/%m/%Y", "20/11/2026", "20/11/2026"), ("%d.%m.%Y", "20.11.2026", "20.11.2026"),
    ("%Y/%m/%d", "2026/11/20", "2026/11/20")])
def test_each_offered_date_format_reads_dates_and_shows_its_example(world, date_format, text, example):
    _, _, imp = world
    result = csv_import.preview(imp, statement(f"{text},Gift,1.00,", "someday,Gift,2.00,"),
                                {**MAPPING, "date_format": date_format})

    assert [line.date for line in result.lines] == [date(2026, 11, 20)]
    assert errors(result) == [(3, f"“someday” is not a date like {example}")]


def test_every_mapping_field_of_the_form_is_kept():
    form = {"date": "D", "date_format": "%d.%m.%Y", "description": "T", "amount": "A", "debit": "Dr",
            "credit": "Cr", "currency": "C", "fixed_currency": "chf", "reference": "R", "negate": "on",
            "decimal_comma": "on", "unrelated": "x"}

    assert csv_import.mapping_from_form(form) == {
        "date": "D", "date_format": "%d.%m.%Y", "description": "T", "amount": "A", "debit": "Dr",
        "credit": "Cr", "currency": "C", "fixed_currency": "CHF", "reference": "R", "negate": True,
        "decimal_comma": True}


@pytest.mark.parametrize("column, key", [
    ("Date", "date"), ("Posted", "date"), ("Booking date", "date"), ("Transaction Date", "date"),
    ("Value date", "date"), ("Description", "description"), ("Details", "description"), ("Memo", "description"),
    ("Payee", "description"), ("Narrative", "description"), ("Name", "description"), ("Amount", "amount"),
    ("Value", "amount"), ("Debit", "debit"), ("Withdrawal", "debit"), ("Money out", "debit"),
    ("Paid out", "debit"), ("Credit", "credit"), ("Deposit", "credit"), ("Money in", "credit"),
    ("Paid in", "credit"), ("Currency", "currency"), ("CCY", "currency"), ("Reference", "reference"),
    ("ID", "reference"), ("Transaction ID", "reference"), ("Ref", "reference"), ("FITID", "reference")])
def test_common_bank_column_names_are_recognised(column, key):
    guessed = csv_import.guess_mapping(["Something else", column])

    assert guessed[key] == column
    assert [k for k in ("date", "description", "amount", "debit", "credit", "currency", "reference")
            if guessed[k]] == [key]


# --------------------------------------------------------------------------- amounts and signs

def test_negate_flips_a_bank_that_writes_money_out_as_positive(world):
    _, _, imp = world
    text = statement("2026-11-01,Rent,1200.00,", "2026-11-02,Refund,-15.25,")

    assert amounts(csv_import.preview(imp, text, MAPPING)) == [120000, -1525]
    assert amounts(csv_import.preview(imp, text, {**MAPPING, "negate": True})) == [-120000, 1525]


def test_the_forms_checkboxes_and_fields_become_the_mapping():
    form = {"date": " Date ", "description": "Memo", "amount": "Amount", "fixed_currency": " eur ",
            "negate": "on", "decimal_comma": "1", "date_format": "%d.%m.%Y"}

    mapping = csv_import.mapping_from_form(form)

    assert mapping["negate"] is True and mapping["decimal_comma"] is True
    assert (mapping["date"], mapping["fixed_currency"], mapping["date_format"]) == ("Date", "EUR", "%d.%m.%Y")
    assert set(mapping) == set(csv_import.MAPPING_KEYS)
    assert (mapping["debit"], mapping["reference"]) == ("", "")
    plain = csv_import.mapping_from_form({"date": "Date"})
    assert plain["negate"] is False and plain["decimal_comma"] is False


def test_a_decimal_comma_statement_reads_thousands_dots(world):
    _, _, imp = world
    text = "Datum;Text;Betrag\n20.11.2026;Miete;-1.200,50\n21.11.2026;Spende;50,00\n"
    mapping = {"date": "Datum", "date_format": "%d.%m.%Y", "description": "Text", "amount": "Betrag",
               "fixed_currency": "EUR", "decimal_comma": True}

    result = csv_import.preview(imp, text, mapping)

    assert [(line.date, line.amount, line.currency) for line in result.lines] == [
        (date(2026, 11, 20), -120050, "EUR"), (date(2026, 11, 21), 5000, "EUR")]


def test_debit_is_money_out_and_credit_money_in_whatever_their_sign(world):
    _, _, imp = world
    text = "Date,Description,Debit,Credit\n2026-11-01,Rent,-12.00,\n2026-11-02,Gift,,-5.00\n" \
           "2026-11-03,Both,1.00,2.00\n2026-11-04,Neither,,\n"
    mapping = {"date": "Date", "date_format": "%Y-%m-%d", "description": "Description", "debit": "Debit",
               "credit": "Credit", "fixed_currency": "USD"}

    result = csv_import.preview(imp, text, mapping)

    assert amounts(result) == [-1200, 500]
    assert errors(result) == [(4, "exactly one of debit and credit must be filled in"),
                              (5, "exactly one of debit and credit must be filled in")]


def test_a_zero_amount_is_refused_and_one_cent_is_kept(world):
    _, _, imp = world
    result = csv_import.preview(imp, statement("2026-11-01,Nothing,0.00,", "2026-11-02,Penny,0.01,",
                                               "2026-11-03,Minus penny,-0.01,"), MAPPING)

    assert amounts(result) == [1, -1]
    assert errors(result) == [(2, "the amount is zero")]


# --------------------------------------------------------------------------- lines

def test_a_blank_line_inside_a_statement_skips_only_itself(world):
    host, admin, imp = world
    text = statement("2026-11-01,Before,1.00,", "", " , , ,", "2026-11-02,After,2.00,",
                     "2026-11-03,Last,3.00,")

    result = csv_import.preview(imp, text, MAPPING)

    assert [(line.number, line.description) for line in result.lines] == [
        (2, "Before"), (5, "After"), (6, "Last")]
    assert result.invalid == []
    assert csv_import.import_csv(host, admin, imp, text, MAPPING, "gap.csv").added == 3


def test_a_short_row_is_an_invalid_line_not_a_crash(world):
    host, admin, imp = world
    text = statement("2026-11-01,Gift", "2026-11-02,Fine,4.00,REF-1")

    result = csv_import.preview(imp, text, MAPPING)

    assert amounts(result) == [400]
    assert errors(result) == [(2, "“” is not an amount")]
    run = csv_import.import_csv(host, admin, imp, text, MAPPING, "short.csv")
    assert (run.added, run.invalid) == (1, 1)


def test_a_line_without_a_description_or_with_a_bad_date_is_invalid(world):
    _, _, imp = world
    text = statement("2026-11-01,,1.00,", "11/01/2026,Gift,1.00,")

    assert errors(csv_import.preview(imp, text, MAPPING)) == [
        (2, "the description is empty"), (3, "“11/01/2026” is not a date like 2026-11-20")]


@pytest.mark.parametrize("code, error", [
    ("US1", "“US1” is not a currency code"), ("US", "“US” is not a currency code"),
    ("USDX", "“USDX” is not a currency code"), ("", "the currency is missing")])
def test_a_currency_must_be_three_letters(world, code, error):
    _, _, imp = world
    mapping = {**MAPPING, "reference": "", "currency": "Currency", "fixed_currency": ""}
    text = f"Date,Description,Amount,Currency\n2026-11-01,Gift,1.00,{code}\n2026-11-02,Gift,1.00,eur\n"

    result = csv_import.preview(imp, text, mapping)

    assert errors(result) == [(2, error)]
    assert [line.currency for line in result.lines] == ["EUR"]


def test_the_currency_column_wins_over_the_fixed_currency(world):
    _, _, imp = world
    text = "Date,Description,Amount,Currency\n2026-11-01,Gift,1.00,GBP\n2026-11-02,Gift,1.00,\n"
    mapping = {**MAPPING, "reference": "", "currency": "Currency", "fixed_currency": "USD"}

    assert [line.currency for line in csv_import.preview(imp, text, mapping).lines] == ["GBP", "USD"]


# --------------------------------------------------------------------------- references and stable ids

def test_a_repeated_bank_reference_is_reported_and_neither_line_imported(world):
    host, admin, imp = world
    text = statement("2026-11-01,Gift,1.00,R-1", "2026-11-02,Gift again,2.00,R-1",
                     "2026-11-03,Other,3.00,R-2")

    result = csv_import.preview(imp, text, MAPPING)

    assert [line.source_id for line in result.lines] == ["ref:R-2"]
    assert errors(result) == [(2, "the reference appears more than once"),
                              (3, "the reference appears more than once")]
    run = csv_import.import_csv(host, admin, imp, text, MAPPING, "refs.csv")
    assert (run.added, run.invalid) == (1, 2)


def test_a_repeated_reference_already_imported_counts_as_already_imported(world):
    host, admin, imp = world
    csv_import.import_csv(host, admin, imp, statement("2026-11-01,Gift,1.00,R-1"), MAPPING, "a.csv")

    twice = statement("2026-11-01,Gift,1.00,R-1", "2026-11-01,Gift,1.00,R-1")
    result = csv_import.preview(imp, twice, MAPPING)

    assert (result.already_imported, result.new_lines, result.invalid) == (2, [], [])


def test_a_long_reference_is_cut_to_120_characters(world):
    _, _, imp = world
    result = csv_import.preview(imp, statement(f"2026-11-01,Gift,1.00,{'R' * 130}"), MAPPING)

    assert result.lines[0].source_id == "ref:" + "R" * 120


def test_the_stable_id_of_a_known_line_never_changes(world):
    # Pinned: a change to how the id is built would make every re-upload import overlapping lines again.
    _, _, imp = world
    mapping = {**MAPPING, "reference": ""}

    text = statement("2026-11-03,Grant ACME,1000.00,", "2026-11-03,Grant ACME,1000.00,")
    result = csv_import.preview(imp, text, mapping)

    # sha256("CU 1234|2026-11-03|100000|USD|grant acme|<occurrence>"), first 40 hex digits.
    assert [line.source_id for line in result.lines] == [
        "h:f04f72880e83d59a85befc739fd512b790b8f590", "h:162e2b887a84cfa7f7ad3507aeebdf975f69ef43"]


def test_a_re_exported_statement_with_other_case_and_spacing_imports_nothing_new(world):
    host, admin, imp = world
    mapping = {**MAPPING, "reference": ""}
    csv_import.import_csv(host, admin, imp, statement("2026-11-01,Donation from Ada,125.00,",
                                                      "2026-11-02,Bank fee,-3.50,"), mapping, "a.csv")
    re_exported = statement("2026-11-01,  DONATION   from ada ,125.00,", "2026-11-02,BANK FEE,-3.50,",
                            "2026-11-03,Bank fee,-3.50,")

    preview = csv_import.preview(imp, re_exported, mapping)
    assert [(line.description, line.new) for line in preview.lines] == [
        ("DONATION   from ada", False), ("BANK FEE", False), ("Bank fee", True)]
    assert preview.already_imported == 2 and len(preview.new_lines) == 1
    run = csv_import.import_csv(host, admin, imp, re_exported, mapping, "b.csv")
    assert (run.added, run.duplicates) == (1, 2)


def test_the_same_line_in_another_import_gets_another_id(world):
    host, admin, imp = world
    other = csv_import.create_csv_import(host, admin, "Savings", "SAV 9")
    mapping = {**MAPPING, "reference": ""}
    text = statement("2026-11-01,Gift,1.00,")

    first = csv_import.preview(imp, text, mapping).lines[0].source_id
    second = csv_import.preview(other, text, mapping).lines[0].source_id

    assert first != second and first.startswith("h:") and len(first) == 42


# --------------------------------------------------------------------------- big files and run counts

def test_a_1001_line_statement_is_imported_whole_and_counted_right(world):
    host, admin, imp = world
    text = statement(*(f"2026-11-{1 + n % 28:02d},Gift {n},{n + 1}.00," for n in range(1001)))

    run = csv_import.import_csv(host, admin, imp, text, MAPPING, "big.csv")
    assert (run.added, run.duplicates, run.invalid) == (1001, 0, 0)
    assert ImportRow.query.count() == 1001

    again = csv_import.import_csv(host, admin, imp, text, MAPPING, "big.csv")
    assert (again.added, again.duplicates) == (0, 1001)


# --------------------------------------------------------------------------- the import run and its rows

def test_imported_rows_wait_for_triage_and_the_run_says_what_happened(world, clock):
    host, admin, imp = world
    text = statement("2026-11-01,Gift " + "x" * 600 + ",1.00,", "bad,line,1.00,")

    run = csv_import.import_csv(host, admin, imp, text, MAPPING, "f" * 400)

    row = ImportRow.query.one()
    assert (row.status, row.pending, row.needs_review, row.first_run_id, row.host_id) == \
        ("PENDING", False, False, run.id, host.id)
    assert (row.created_at, row.updated_at, row.currency, len(row.description)) == \
        (clock.now, clock.now, "USD", 500)
    assert (run.filename, run.outcome, run.started_at, run.finished_at) == ("f" * 300, "SUCCEEDED", clock.now,
                                                                            clock.now)
    assert run.invalid_details == [{"line": 3, "error": "“bad” is not a date like 2026-11-20"}]
    assert imp.last_synced_at == clock.now and imp.csv_mapping["account"] == "CU 1234"
    entry = admin_audit(host, "import.upload_csv")
    assert entry.data == {"run_id": run.id, "filename": "f" * 300, "added": 1, "already_imported": 0,
                          "invalid": 1}


def test_a_clean_run_has_no_invalid_details_and_a_default_filename(world):
    host, admin, imp = world
    run = csv_import.import_csv(host, admin, imp, statement("2026-11-01,Gift,1.00,"), MAPPING, "")

    assert (run.invalid, run.invalid_details, run.filename) == (0, None, "upload.csv")


def test_a_mapping_saved_with_an_upload_cannot_change_the_account_label(world):
    host, admin, imp = world
    csv_import.import_csv(host, admin, imp, statement("2026-11-01,Gift,1.00,"),
                          {**MAPPING, "account": "Something else"}, "a.csv")

    assert imp.csv_mapping["account"] == "CU 1234" and imp.csv_mapping["amount"] == "Amount"


def admin_audit(host, action):
    from hostadmin.extensions import db
    return db.session.scalars(select(AuditEntry).where(AuditEntry.host_id == host.id,
                                                       AuditEntry.action == action)
                              .order_by(AuditEntry.id.desc())).first()


# ------------------------------------------------------------------------- creating an import, reading files

def test_an_import_needs_a_name_and_its_account_defaults_to_it(world):
    host, admin, _ = world
    for missing in ("   ", "", None):
        with pytest.raises(InputError, match="Give the import a name"):
            csv_import.create_csv_import(host, admin, missing)

    imp = csv_import.create_csv_import(host, admin, "  Savings  ")

    assert (imp.name, imp.source, imp.csv_mapping) == ("Savings", "CSV", {"account": "Savings"})
    assert admin_audit(host, "import.create_csv").after == {"name": "Savings"}


@pytest.mark.parametrize("content, error", [
    ("", "The file is empty."), ("  \n ", "The file is empty."),
    ("OnlyOneColumn\nvalue\n", "The file needs a header line and at least two columns.")])
def test_an_unreadable_file_is_an_error_not_a_crash(world, content, error):
    _, _, imp = world
    with pytest.raises(InputError, match=error):
        csv_import.read_table(content)
    assert csv_import.preview(imp, content, MAPPING).error == error


def test_a_byte_order_mark_and_semicolons_or_tabs_are_read(world):
    header, rows = csv_import.read_table("\ufeff Date ;Description;Amount\n2026-11-01;Gift;1,00\n")
    assert (header, rows) == (["Date", "Description", "Amount"], [["2026-11-01", "Gift", "1,00"]])
    header, rows = csv_import.read_table("Date\tDescription\n2026-11-01\tGift, with comma\n")
    assert (header, rows) == (["Date", "Description"], [["2026-11-01", "Gift, with comma"]])


def test_a_file_whose_delimiter_cannot_be_sniffed_is_read_as_commas():
    header, rows = csv_import.read_table("Date,Description,Amount\n2026-11-01,Gift\n2026-11-02,A,B,C,D\n")

    assert header == ["Date", "Description", "Amount"]
    assert rows == [["2026-11-01", "Gift"], ["2026-11-02", "A", "B", "C", "D"]]


def test_a_first_column_starting_with_x_keeps_its_name():
    assert csv_import.read_table("\ufeffXfer date,Amount\n2026-11-01,1.00\n")[0] == ["Xfer date", "Amount"]


def test_long_names_are_cut_to_the_columns_size(world):
    host, admin, _ = world
    imp = csv_import.create_csv_import(host, admin, "N" * 250, "A" * 250)

    assert (len(imp.name), len(imp.csv_mapping["account"])) == (200, 200)


def test_at_most_500_invalid_lines_are_kept_with_the_run_but_all_are_counted(world):
    host, admin, imp = world
    text = statement(*(f"2026-11-01,Gift {n},abc," for n in range(501)), "2026-11-02,Fine,1.00,")

    run = csv_import.import_csv(host, admin, imp, text, MAPPING, "bad.csv")

    assert (run.added, run.invalid, len(run.invalid_details)) == (1, 501, 500)
    assert run.invalid_details[-1]["line"] == 501


def test_columns_are_guessed_from_the_header_and_a_saved_mapping_wins_when_its_column_exists():
    header = ["Booking Date", "Details", "Money out", "Money in", "CCY", "FITID"]

    guessed = csv_import.guess_mapping(header)

    assert (guessed["date"], guessed["description"], guessed["debit"], guessed["credit"], guessed["currency"],
            guessed["reference"], guessed["amount"], guessed["date_format"]) == \
        ("Booking Date", "Details", "Money out", "Money in", "CCY", "FITID", "", "%Y-%m-%d")
    saved = csv_import.guess_mapping(header, {"description": "FITID", "date": "Gone",
                                              "date_format": "%d/%m/%Y"})
    assert (saved["description"], saved["date"], saved["date_format"]) == \
        ("FITID", "Booking Date", "%d/%m/%Y")
    both = csv_import.guess_mapping(["Date", "Memo", "Amount", "Debit", "Credit"])
    assert (both["amount"], both["debit"], both["credit"]) == ("Amount", "", "")
    debit_too = csv_import.guess_mapping(["Date", "Memo", "Amount", "Debit"])
    assert (debit_too["amount"], debit_too["debit"]) == ("Amount", "")
    credit_too = csv_import.guess_mapping(["Date", "Memo", "Amount", "Credit"])
    assert (credit_too["amount"], credit_too["credit"]) == ("Amount", "")


NO_CURRENCY = "Choose the currency column or give the currency (three letters, such as USD)."


@pytest.mark.parametrize("change, error", [
    ({"date": "Nope"}, "Choose the date column."),
    ({"description": ""}, "Choose the description column."),
    ({"amount": "", "debit": "", "credit": ""}, "Choose the amount column, or the debit and credit columns."),
    ({"amount": "Betrag"}, "The amount column “Betrag” is not in this file."),
    ({"reference": "Ref"}, "The reference column “Ref” is not in this file."),
    ({"amount": "", "debit": "Out"}, "The debit column “Out” is not in this file."),
    ({"amount": "", "credit": "In"}, "The credit column “In” is not in this file."),
    ({"currency": "Ccy"}, "The currency column “Ccy” is not in this file."),
    ({"fixed_currency": "US"}, NO_CURRENCY),
    ({"fixed_currency": ""}, NO_CURRENCY),
    ({"date_format": "%Y"}, "Choose the date format."),
])
def test_a_mapping_that_does_not_fit_the_file_is_explained(world, change, error):
    _, _, imp = world
    result = csv_import.preview(imp, statement("2026-11-01,Gift,1.00,"), {**MAPPING, **change})

    assert (result.error, result.lines, result.columns) == (error, [], ["Date", "Description", "Amount",
                                                                        "Reference"])


def test_a_debit_column_alone_is_enough(world):
    _, _, imp = world
    text = "Date,Description,Debit\n2026-11-01,Rent,7.00\n"
    mapping = {"date": "Date", "date_format": "%Y-%m-%d", "description": "Description", "debit": "Debit",
               "fixed_currency": "USD"}

    assert amounts(csv_import.preview(imp, text, mapping)) == [-700]


# Last: the slowest test (5,003 lines) runs after the quick ones, so most mutants die before it.
def test_the_preview_finds_every_imported_line_of_a_long_statement(world):
    host, admin, imp = world
    text = statement(*(f"2026-11-01,Gift {n},1.00,R{n}" for n in range(5003)))
    csv_import.import_csv(host, admin, imp, text, MAPPING, "long.csv")

    result = csv_import.preview(imp, text, MAPPING)

    assert (result.already_imported, len(result.new_lines)) == (5003, 0)
