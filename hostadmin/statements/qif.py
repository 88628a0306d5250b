"""Quicken Interchange Format (QIF) bank and card accounts.

Read here rather than with quiffen: quiffen 4.0.1 requires python-dateutil < 3 and the app's environment
has 4.0 (required by plaid-python's stack), and QIF is a line format of a few letters. A record is lines
of one letter and a value, ended by `^`: D date, T (or U) amount, P payee, M memo, N check number.
Dates are detected from the whole file (`11/20'26`, `20.11.2026` …); QIF has no currency.
"""
from hostadmin.money import AmountError
from hostadmin.statements import amounts, dates
from hostadmin.statements.line import StatementLine

_TRANSACTION_TYPES = ("!type:bank", "!type:cash", "!type:ccard", "!type:oth a", "!type:oth l")


def read(text, currency):
    """(lines, invalid, skipped) of QIF text."""
    records, record, kind, start = [], {}, "", 1
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("!"):
            kind = line.lower()
            continue
        if line == "^":
            if record:
                records.append((start, kind, record))
            record, start = {}, number + 1
            continue
        if not record:
            start = number
        record.setdefault(line[0], line[1:].strip())
    if record:
        records.append((start, kind, record))
    wanted = [(n, r) for n, k, r in records if k.startswith(_TRANSACTION_TYPES) or not k]
    skipped = len(records) - len(wanted)
    raw_dates = [r.get("D", "").replace("'", "/").replace(" ", "") for _, r in wanted]
    date_format = dates.detect(raw_dates, month_first=True) or "%m/%d/%Y"
    comma = amounts.detect_decimal_comma([r.get("T") or r.get("U") or "" for _, r in wanted])
    lines, invalid = [], []
    for (number, record), raw_date in zip(wanted, raw_dates):
        try:
            day = dates.parse(raw_date, date_format)
        except ValueError:
            invalid.append({"line": number, "error": f"“{record.get('D', '')[:40]}” is not a date like "
                                                     f"{dates.example(date_format)}"})
            continue
        try:
            amount = amounts.parse(record.get("T") or record.get("U") or "", currency, comma)
        except AmountError as error:
            invalid.append({"line": number, "error": str(error)})
            continue
        if amount == 0:
            invalid.append({"line": number, "error": "the amount is zero"})
            continue
        description = " ".join(part for part in (record.get("P"), record.get("M")) if part)
        lines.append(StatementLine(number, day, amount, currency, description or "(no description)"))
    return lines, invalid, skipped
