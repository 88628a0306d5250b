"""CSV for spreadsheets: every CSV the app writes goes through writer(), so no cell runs as a formula.

A text cell that starts with = + - @ tab or carriage return is a formula (or becomes one) in Excel,
LibreOffice and Google Sheets; it is written with a leading apostrophe, which they show as text.
A plain decimal number (-12.50) stays a number.
"""
import csv
import re
from decimal import Decimal

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?\Z")


def safe_cell(value):
    """The value as a CSV cell that a spreadsheet shows and does not evaluate."""
    if value is None:
        return ""
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.match(text):
        return "'" + text
    return text


class _SafeWriter:
    def __init__(self, stream, **kwargs):
        self._writer = csv.writer(stream, **kwargs)
        # csv.writer quotes only the line terminator's characters: with "\n" a bare CR in a cell
        # stays unquoted and readers split the row there. Such rows are written fully quoted.
        self._quoting_all = csv.writer(stream, **{**kwargs, "quoting": csv.QUOTE_ALL})

    def writerow(self, row):
        cells = [safe_cell(value) for value in row]
        has_cr = any(isinstance(cell, str) and "\r" in cell for cell in cells)
        return (self._quoting_all if has_cr else self._writer).writerow(cells)

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def writer(stream, **kwargs):
    """csv.writer(stream, **kwargs) whose rows are made safe cell by cell."""
    return _SafeWriter(stream, **kwargs)
