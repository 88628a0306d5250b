"""SWIFT MT940 statements read by mt-940; a line's id is its references plus a hash of its content
(MT940 references are often NONREF or repeat, so the content keeps two lines apart)."""
import hashlib
from collections import Counter
from datetime import date

import mt940 as mt940_library

from hostadmin.money import AmountError, to_minor_units
from hostadmin.statements.line import StatementLine
from hostadmin.statements.ofx import FormatError


def read(text):
    """(lines, invalid) of MT940 text."""
    try:
        transactions = mt940_library.models.Transactions()
        transactions.parse(text)
    except Exception as error:
        raise FormatError(f"This MT940 file cannot be read ({str(error)[:200]}).") from None
    lines, invalid, seen = [], [], Counter()
    for number, transaction in enumerate(transactions, start=1):
        data = transaction.data
        money = data.get("amount")
        day = data.get("date")
        if money is None or day is None:
            invalid.append({"line": number, "error": f"entry {number}: no amount or date"})
            continue
        try:
            amount = to_minor_units(money.amount, money.currency)
        except AmountError as error:
            invalid.append({"line": number, "error": f"entry {number}: “{money.amount}” {error}"})
            continue
        if amount == 0:
            invalid.append({"line": number, "error": f"entry {number}: the amount is zero"})
            continue
        description = " ".join(" ".join(str(data.get(key) or "") for key in
                                        ("transaction_details", "extra_details")).split())
        references = "/".join(str(data.get(key) or "") for key in ("customer_reference", "bank_reference"))
        content = "|".join([references, day.isoformat(), str(amount), money.currency, description.lower()])
        seen[content] += 1
        digest = hashlib.sha256(f"{content}|{seen[content]}".encode()).hexdigest()[:32]
        lines.append(StatementLine(number, date_of(day), amount, money.currency.upper(),
                                   description or references or "(no description)", reference=references,
                                   source_id=f"mt940:{references[:60]}:{digest}"))
    return lines, invalid


def date_of(value):
    """A plain date from mt-940's Date (a date subclass that would not compare equal in every driver)."""
    return date(value.year, value.month, value.day)
