"""Any CSV a bank exports: each shape below is a statement written for these tests, as real banks write them."""
from datetime import date

import pytest

from hostadmin.statements import csv_reader, dates, encoding, table


def read(text, given=None, currency="EUR"):
    return csv_reader.read(table.normalise(text), given, currency)


def summary(result):
    return [(line.line, line.date, line.amount, line.currency, line.description) for line in result.lines]


@pytest.mark.parametrize("column, expected", [
    (["22.02.18", "01.03.18"], [date(2018, 2, 22), date(2018, 3, 1)]),
    (["19/04/19", "03/04/19"], [date(2019, 4, 19), date(2019, 4, 3)]),
    (["04/19/2019", "01/02/2019"], [date(2019, 4, 19), date(2019, 1, 2)]),
    (["28-Mar-2020", "01-Apr-2020"], [date(2020, 3, 28), date(2020, 4, 1)]),
    (["03 Jan 20", "14 Feb 20"], [date(2020, 1, 3), date(2020, 2, 14)]),
    (["2019-04-19 10:31:14 +0000", "2019-04-20 23:59:59"], [date(2019, 4, 19), date(2019, 4, 20)]),
    (["2019-04-19T10:31:14Z"], [date(2019, 4, 19)]),
    (["2019.04.19.", "2019.04.20."], [date(2019, 4, 19), date(2019, 4, 20)]),
    (["05/06/2020", "01/02/2020"], [date(2020, 6, 5), date(2020, 2, 1)]),  # ambiguous: day-first
    (["20261120"], [date(2026, 11, 20)]),
    (["28-Mär-2020", "01-Dez-2020"], [date(2020, 3, 28), date(2020, 12, 1)]),     # German
    (["15. März 2020", "1. Mai 2020"], [date(2020, 3, 15), date(2020, 5, 1)]),
    (["3 janv. 2020", "14 févr. 2020"], [date(2020, 1, 3), date(2020, 2, 14)]),    # French
    (["03 mei 2020", "14 okt 2020"], [date(2020, 5, 3), date(2020, 10, 14)]),      # Dutch
    (["3 października 2020", "1 maj 2020"], [date(2020, 10, 3), date(2020, 5, 1)]),  # Polish, genitive
    (["05-ago-2020", "31-dic-2020"], [date(2020, 8, 5), date(2020, 12, 31)]),     # Spanish
])
def test_a_date_column_is_read_in_the_format_that_fits_all_of_it(column, expected):
    date_format = dates.detect(column)
    assert [dates.parse(value, date_format) for value in column] == expected


def test_one_13_late_in_a_column_makes_the_whole_column_day_first():
    column = [f"0{m}/0{d}/2020" for m in range(1, 10) for d in range(1, 10)] + ["13/01/2020"]
    assert dates.detect(column).startswith("%d/%m")
    assert dates.detect(["01/13/2020", *column[:80]]).startswith("%m/%d")


def test_no_month_name_means_two_months_in_the_languages_read():
    # Each language alone, then all together: the table would hide a clash (setdefault keeps the first).
    together = dates.month_names()
    for language in ("en", "de", "fr", "nl", "es", "it", "pt", "sv", "da", "nb", "fi", "pl", "cs", "hu", "ro", "tr"):
        for name, number in dates.month_names((language,)).items():
            assert together[name] == number, (language, name)


def test_a_word_that_is_no_month_is_still_no_date():
    with pytest.raises(ValueError):
        dates.parse("28-Foo-2020", "%d-%b-%Y")


def test_unicode_digits_are_never_a_date():
    with pytest.raises(ValueError):
        dates.parse("２０２６-11-20", "%Y-%m-%d")


PREAMBLE = """Account holder;Ada Lovelace
IBAN;DE12 3456 7890 1234 5678 90
Statement period;01.02.2018 - 28.02.2018
Currency;EUR

Booking date;Text;Amount;Cr/Dr;Status
22.02.18;Rent February;700,00;DR;Booked
13.02.18;Donation club;1.250,00;CR;Booked
14.02.18;Card;3,50;DR;Pending
"""


def test_a_preamble_is_skipped_and_a_direction_column_and_status_are_detected():
    result = read(PREAMBLE)

    assert result.mapping["header_line"] == 6 and result.mapping["delimiter"] == ";"
    assert (result.mapping["date"], result.mapping["date_format"], result.mapping["amount"]) == \
        ("Booking date", "%d.%m.%y", "Amount")
    assert result.mapping["direction"] == {"column": "Cr/Dr", "in": ["CR"]}
    assert result.mapping["decimal_comma"] is True
    assert result.mapping["skip"] == [{"column": "Status", "equals": ["Pending"]}]
    assert summary(result) == [(7, date(2018, 2, 22), -70000, "EUR", "Rent February"),
                               (8, date(2018, 2, 13), 125000, "EUR", "Donation club")]
    assert (result.skipped, result.invalid) == (1, [])


@pytest.mark.parametrize("money_in, money_out", [("K", "D"), ("CR", "DR"), ("Bij", "Af"), ("H", "S"),
                                                  ("Credit", "Debit")])
def test_each_kind_of_direction_indicator_signs_the_amount(money_in, money_out):
    text = f"Date,Memo,Amount,Dir\n2026-11-01,Gift,12.00,{money_in}\n2026-11-02,Fee,3.00,{money_out}\n"
    result = read(text)

    assert [line.amount for line in result.lines] == [1200, -300]
    assert result.mapping["direction"]["in"] == [money_in]


def test_no_header_maps_columns_by_position():
    result = read("01.11.2026;Gift from Ada;125,00\n02.11.2026;Bank fee;-3,50\n")

    assert result.mapping["header_line"] is None and result.columns == ["#1", "#2", "#3"]
    assert (result.mapping["date"], result.mapping["amount"], result.mapping["description"]) == ("#1", "#3", "#2")
    assert [line.amount for line in result.lines] == [12500, -350]
    assert result.lines[0].line == 1


def test_a_header_split_over_two_lines_is_joined():
    text = "Booking,Transaction,Amount\ndate,details,EUR\n2026-11-01,Gift,5.00\n"
    result = read(text)

    assert result.columns == ["Booking date", "Transaction details", "Amount EUR"]
    assert summary(result) == [(3, date(2026, 11, 1), 500, "EUR", "Gift")]


def test_debit_and_credit_pairs_with_zeroes_on_the_unused_side():
    text = ("Datum;Omschrijving;Debit;Credit\n01-11-2026;Huur;700,00;0,00\n02-11-2026;Gift;0,00;25,50\n"
            "03-11-2026;Both;1,00;2,00\n04-11-2026;Neither;0,00;0,00\n")
    result = read(text)

    assert (result.mapping["debit"], result.mapping["credit"], result.mapping["amount"]) == ("Debit", "Credit", "")
    assert [line.amount for line in result.lines] == [-70000, 2550]
    assert result.invalid == [{"line": 4, "error": "both debit and credit are filled in"},
                              {"line": 5, "error": "the amount is zero"}]


def test_balance_rows_and_totals_are_skipped_and_continuation_lines_join_the_description():
    text = ("Date,Description,Amount\n2026-11-01,Opening balance,1000.00\n2026-11-02,Transfer from,50.00\n"
            ",ACME Foundation grant,\n2026-11-03,Fee,-1.00\n,Total,49.00\n2026-11-30,Closing balance,1049.00\n")
    result = read(text)

    assert summary(result) == [(3, date(2026, 11, 2), 5000, "EUR", "Transfer from ACME Foundation grant"),
                               (5, date(2026, 11, 3), -100, "EUR", "Fee")]
    assert result.skipped == 3 and result.invalid == []


def test_record_type_lines_without_a_date_are_proposed_as_skipped():
    text = ("Type;Date;Description;Amount\n10;;Header of statement 42;\n82;2026-11-01;Gift;5,00\n"
            "86;;more about it;1\n82;2026-11-02;Fee;-1,00\n")
    result = read(text)

    assert {"column": "Type", "equals": ["10", "86"]} in result.mapping["skip"]
    assert [line.amount for line in result.lines] == [500, -100] and result.skipped == 2


def test_a_mapping_skip_rule_and_given_keys_win_over_detection():
    text = "Date,Memo,Amount,Kind\n2026-11-01,Gift,5.00,X\n2026-11-02,Fee,1.00,Y\n"
    result = read(text, {"skip": [{"column": "#4", "equals": ["x"]}], "negate": True, "fixed_currency": "USD"})

    assert summary(result) == [(3, date(2026, 11, 2), -100, "USD", "Fee")]


@pytest.mark.parametrize("codec", ["cp1250", "utf-8", "utf-8-sig", "utf-16"])
def test_czech_column_names_come_out_right_in_each_encoding(codec):
    text = ("Datum;Popis transakce;Částka;Měna\n01.02.2026;Platba kartou Žďár nad Sázavou;-1 234,50;CZK\n"
            "02.02.2026;Příchozí úhrada – nájem;15 000,00;CZK\n")
    decoded, used = encoding.decode(text.encode(codec))
    result = read(decoded)

    assert result.columns == ["Datum", "Popis transakce", "Částka", "Měna"]
    assert [(line.amount, line.currency) for line in result.lines] == [(-123450, "CZK"), (1500000, "CZK")]


def test_cyrillic_and_western_exports_are_detected_and_the_encoding_can_be_forced():
    russian = "Дата;Описание;Сумма\n01.02.2026;Оплата услуг связи;-500,00\n".encode("cp1251")
    french = "Date;Libellé;Montant\n01/02/2026;Café crème à Paris;-3,50\n".encode("latin-1")

    assert encoding.decode(russian)[1] == "cp1251"
    assert "Café crème" in encoding.decode(french)[0]
    assert encoding.decode(french, "cp1250")[0].startswith("Date;Libellé")
    with pytest.raises(encoding.EncodingError):
        encoding.decode(b"\xff\xfe\x00", "utf-8")
    with pytest.raises(encoding.EncodingError):
        encoding.decode(b"PK\x03\x04\x00\x00binary\x00\x00", None)


@pytest.mark.parametrize("text", [
    "Date\tMemo\tAmount\r2026-11-01\tGift, with comma\t5.00\r",                 # tabs, CR only
    "Date|Memo|Amount\r\r\n2026-11-01|Gift, with comma|5.00\r\r\n",             # pipes, CR CR LF
    'Date,Memo,Amount\n2026-11-01,"Gift, with comma",5.00\n',                   # quoted
    "Date;Memo;Amount\n2026-11-01;Gift, with comma;5.00\n",                     # semicolons
])
def test_dialects_and_line_endings(text):
    result = read(text)
    assert [(line.line, line.description, line.amount) for line in result.lines] == [(2, "Gift, with comma", 500)]


def test_stray_quotes_inside_a_field_are_kept_as_text():
    result = read('Date;Memo;Amount\n2026-11-01;Shop 12" screen;5,00\n2026-11-02;Cafe;1,00\n')
    assert [line.description for line in result.lines] == ['Shop 12" screen', "Cafe"]


def test_a_mapping_that_names_a_missing_column_is_explained():
    missing = read("Date,Memo,Amount\n2026-11-01,Gift,5.00\n", {"amount": "Betrag"})
    assert (missing.error, missing.lines, missing.columns) == ("The amount column “Betrag” is not in this file.", [],
                                                               ["Date", "Memo", "Amount"])
    rule = read("Date,Memo,Amount\n2026-11-01,Gift,5.00\n", {"skip": [{"column": "#9", "equals": ["x"]}]})
    assert rule.error == "Each skip rule needs a column of this file and the values to skip."


@pytest.mark.parametrize("column", ["#²", "#٣", "#１", "#1_0", "#-1", "#0", "#4", "#" + "9" * 5000])
def test_a_column_number_that_is_not_one_of_the_files_is_explained(column):
    result = read("Date,Memo,Amount\n2026-11-01,Gift,5.00\n", {"amount": column})
    assert (result.error, result.lines) == (f"The amount column “{column}” is not in this file.", [])
    assert read("Date,Memo,Amount\n2026-11-01,Gift,5.00\n", {"amount": "#3"}).lines[0].amount == 500


def test_hostile_cells_are_invalid_lines_not_crashes():
    text = ("Date,Memo,Amount\n2026-11-01,=HYPERLINK(\"x\"),5.00\n\x00bad\x01,Gift,1.00\n"
            "2026-11-02,Gift,１２\n2026-11-03," + "x" * 5000 + ",1.00\n")
    result = read(text)

    assert [line.amount for line in result.lines] == [500, 100]
    assert [item["line"] for item in result.invalid] == [3, 4]


def test_a_header_split_over_three_lines_is_joined():
    text = ("Booking,Value,Transaction,Amount\ndate,date,details,in\n(local),(local),,EUR\n"
            "2026-11-01,2026-11-02,Gift,5.00\n")
    result = read(text)

    assert result.columns == ["Booking date (local)", "Value date (local)", "Transaction details", "Amount in EUR"]
    assert result.mapping["date"] == "Booking date (local)"
    assert summary(result) == [(4, date(2026, 11, 1), 500, "EUR", "Gift")]


def test_a_preamble_padded_to_the_headers_width_is_not_joined_to_it():
    text = ("Account holder,Ada Lovelace,,\nIBAN,NL91 ABNA 0417 1643 00,,\n"
            "Booking date,Value date,Details,Amount\n2026-11-01,2026-11-02,Gift,5.00\n")
    result = read(text)

    assert result.columns == ["Booking date", "Value date", "Details", "Amount"]
    assert summary(result) == [(4, date(2026, 11, 1), 500, "EUR", "Gift")]


def test_no_more_than_four_lines_make_a_header():
    lines = [",".join(f"w{n}{c}" for c in "abcd") for n in range(6)]
    result = read("\n".join(lines) + "\n2026-11-01,x,y,5.00\n")

    assert result.columns[0] == "w2a w3a w4a w5a"
