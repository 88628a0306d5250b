"""A statement file as rows of cells: line endings, dialect (clevercsv), bounds, and where the header is."""
import csv
import io
import re

import clevercsv

from hostadmin.money import AmountError
from hostadmin.statements import amounts, dates
from hostadmin.text import clean_text

DELIMITERS = [",", ";", "\t", "|"]
# A bank statement has a handful of columns and short lines; these bounds keep a hostile or
# mistaken file (a million-column header) from costing gigabytes of memory and page.
MAX_COLUMNS = 200
MAX_LINE_LENGTH = 10_000
_SAMPLE_LINES = 200


class TableError(ValueError):
    """A file that cannot be read as a table; the message says why."""


def normalise(text):
    """Text with LF line ends (CR CR LF, CR LF and lone CR all seen in bank exports) and no control characters."""
    return clean_text(text.replace("\r\r\n", "\n"))


def detect_delimiter(text):
    """The delimiter of CSV text, judged by clevercsv's data consistency on the first lines (`,` if unsure)."""
    sample = "\n".join(text.split("\n", _SAMPLE_LINES)[:_SAMPLE_LINES])[:64_000]
    try:
        dialect = clevercsv.Detector().detect(sample, delimiters=DELIMITERS)
    except Exception:  # clevercsv raises assorted errors on text it cannot score
        dialect = None
    return dialect.delimiter if dialect is not None and dialect.delimiter in DELIMITERS else ","


def read_rows(text, delimiter):
    """[(first line number, cells)] of normalised CSV text; TableError if unreadable or too wide."""
    if not text.strip():
        raise TableError("The file is empty.")
    for number, line in enumerate(text.split("\n"), start=1):
        if len(line) > MAX_LINE_LENGTH:
            raise TableError(f"Line {number:,} is longer than {MAX_LINE_LENGTH:,} characters: "
                             "this does not look like a bank statement.")
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, quotechar='"', doublequote=True,
                        skipinitialspace=False, strict=False)
    rows, start = [], 1
    try:
        for cells in reader:
            if len(cells) > MAX_COLUMNS:
                raise TableError(f"Line {start:,} has {len(cells):,} columns; a statement can have at most "
                                 f"{MAX_COLUMNS} columns.")
            rows.append((start, [cell.strip() for cell in cells]))
            start = reader.line_num + 1
    except csv.Error as error:
        raise TableError(f"Line {reader.line_num:,} cannot be read as CSV ({error}).") from None
    return rows


def is_date(value):
    """True for a cell that reads as a date in some format."""
    value = value.strip()
    if not value or len(value) > 40 or not any(c.isdigit() for c in value):
        return False
    return any(dates.fits([value], f) for f in dates.FORMATS)


def is_amount(value):
    """True for a cell that reads as an amount (either decimal mark)."""
    if not value or not any(c.isdigit() for c in value):
        return False
    for comma in (False, True):
        try:
            amounts.parse(value, "KWD", comma)  # three decimals: the widest common precision
            return True
        except AmountError:
            continue
    return False


_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)


def _textual(cells):
    filled = [cell for cell in cells if cell]
    return len(filled) >= 2 and all(_LETTERS.search(cell) and not is_date(cell) for cell in filled)


def _looks_like_data(cells):
    return any(is_date(cell) for cell in cells) and sum(is_amount(cell) for cell in cells if not is_date(cell)) >= 1


def find_header(rows):
    """(index of the header row or None, index of the first data row): a preamble of any length is skipped,
    a header may span two lines (returned as the second; `header_names` joins them)."""
    for position, (_, cells) in enumerate(rows[:80]):
        if _looks_like_data(cells):
            # The nearest text-only line a few lines above (record-type lines may sit in between).
            for above in range(position - 1, max(position - 6, -1), -1):
                if _textual(rows[above][1]):
                    return above, above + 1
            return None, position
    return (0, 1) if rows else (None, 0)


MAX_HEADER_LINES = 4  # banks split a header over two or three lines; more is a preamble, not a header


def header_names(rows, header_index, width):
    """The column names: the header's cells, joined with the lines just above it that continue it (up to
    MAX_HEADER_LINES in all), `#N` for a column without a name, unique."""
    if header_index is None:
        return [f"#{n}" for n in range(1, width + 1)]
    cells = list(rows[header_index][1])
    top = header_index
    while header_index - top < MAX_HEADER_LINES - 1 and _continues_header(rows, top - 1, top, len(cells)):
        top -= 1
    for above in range(header_index - 1, top - 1, -1):
        cells = [f"{upper} {lower}".strip() for upper, lower in zip(rows[above][1], cells)]
    cells += [""] * (width - len(cells))
    names, used = [], set()
    for number, cell in enumerate(cells, start=1):
        name = cell or f"#{number}"
        while name in used:
            name = f"{name} ({number})"
        used.add(name)
        names.append(name)
    return names


def _continues_header(rows, above, below, width):
    """True when line `above` is the part of a split header just over line `below`: the line right before it
    in the file, as wide, text only, and not a preamble's "key;value" pair padded to the header's width."""
    if above < 0 or rows[above][0] != rows[below][0] - 1:
        return False
    cells = rows[above][1]
    if len(cells) != width or not _textual(cells):
        return False
    filled = [number for number, cell in enumerate(cells) if cell]
    return not (width > 3 and filled == [0, 1])
