"""CSV the app writes: text a spreadsheet would evaluate is written as text; numbers stay numbers."""
import csv
import io
from decimal import Decimal

import pytest

from hostadmin import csvsafe


def written(row):
    out = io.StringIO()
    csvsafe.writer(out, lineterminator="\n").writerow(row)
    return next(csv.reader(io.StringIO(out.getvalue(), newline="")))


@pytest.mark.parametrize("text", ["=cmd|' /C calc'!A0", "+HYPERLINK(\"http://x.example\",\"y\")", "-2+3",
                                  "@SUM(A1:A2)", "\t=1+1", "\r=1+1", "-", "+1", "--12"])
def test_text_that_a_spreadsheet_would_evaluate_gets_a_leading_apostrophe(text):
    assert written([text]) == ["'" + text]


@pytest.mark.parametrize("value,cell", [("-12.50", "-12.50"), ("12.50", "12.50"), ("-3", "-3"),
                                        (Decimal("-12.50"), "-12.50"), (-7, "-7"), (None, ""),
                                        ("a=b", "a=b"), ("Ada @ home", "Ada @ home"), ("", "")])
def test_numbers_and_harmless_text_are_written_as_they_are(value, cell):
    assert written([value]) == [cell]


def test_unicode_digits_are_not_taken_for_a_number():
    assert written(["-１２"]) == ["'-１２"]


def test_a_carriage_return_inside_a_cell_does_not_split_the_row():
    assert written(["a\rb", "-12.50", "c\nd"]) == ["a\rb", "-12.50", "c\nd"]
