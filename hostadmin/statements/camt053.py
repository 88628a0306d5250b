"""ISO 20022 CAMT.053 bank-to-customer statements, parsed with defusedxml (no entity expansion, no DTDs).

A line's id is the bank's AcctSvcrRef, else its NtryRef; pending entries (status PDNG, INFO) are skipped.
The file is read entry by entry (iterparse), so memory stays flat however long the statement is.
"""
import io
from datetime import date

from defusedxml.ElementTree import iterparse

from hostadmin.money import AmountError
from hostadmin.statements import amounts
from hostadmin.statements.line import StatementLine
from hostadmin.statements.ofx import FormatError


def _local(tag):
    return tag.rsplit("}", 1)[-1]


def _find(element, *path):
    """The first descendant at the path of local names (namespaces ignored), or None."""
    current = [element]
    for name in path:
        current = [child for parent in current for child in parent if _local(child.tag) == name]
        if not current:
            return None
    return current[0]


def _text(element, *path):
    found = _find(element, *path)
    return (found.text or "").strip() if found is not None else ""


def read(data, default_currency):
    """(lines, invalid, skipped) of a CAMT.053 file."""
    lines, invalid, skipped, number = [], [], 0, 0
    account_currency = default_currency
    try:
        for event, element in iterparse(io.BytesIO(data), events=("end",)):
            name = _local(element.tag)
            if name == "Acct" and _text(element, "Ccy"):
                account_currency = _text(element, "Ccy")
            if name != "Ntry":
                continue
            number += 1
            status = _text(element, "Sts", "Cd") or _text(element, "Sts")
            if status in ("PDNG", "INFO"):
                skipped += 1
            else:
                _entry(element, number, account_currency, lines, invalid)
            element.clear()
    except FormatError:
        raise
    except Exception as error:  # a ParseError, or defusedxml refusing an entity or a DTD
        raise FormatError(f"This CAMT.053 file cannot be read ({str(error)[:200]}).") from None
    return lines, invalid, skipped


def _entry(entry, number, account_currency, lines, invalid):
    amount_element = _find(entry, "Amt")
    currency = (amount_element.get("Ccy") if amount_element is not None else "") or account_currency
    raw_day = _text(entry, "BookgDt", "Dt") or _text(entry, "BookgDt", "DtTm")[:10] or \
        _text(entry, "ValDt", "Dt") or _text(entry, "ValDt", "DtTm")[:10]
    try:
        day = date.fromisoformat(raw_day) if raw_day.isascii() else None
    except ValueError:
        day = None
    if day is None:
        invalid.append({"line": number, "error": f"entry {number}: “{raw_day[:40]}” is not a date"})
        return
    try:
        amount = amounts.parse(amount_element.text if amount_element is not None else "", currency)
    except AmountError as error:
        invalid.append({"line": number, "error": f"entry {number}: {error}"})
        return
    indicator = _text(entry, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT") or amount <= 0:
        invalid.append({"line": number, "error": f"entry {number}: the amount needs a positive value and "
                                                 "CRDT or DBIT"})
        return
    details = _find(entry, "NtryDtls", "TxDtls")
    parties = []
    if details is not None:
        side = "Dbtr" if indicator == "CRDT" else "Cdtr"
        parties.append(_text(details, "RltdPties", side, "Nm") or _text(details, "RltdPties", side, "Pty", "Nm"))
        parties.append(" ".join((u.text or "").strip() for u in details.iter() if _local(u.tag) == "Ustrd"))
    parties.append(_text(entry, "AddtlNtryInf"))
    description = " ".join(" ".join(part for part in parties if part).split())
    reference = _text(entry, "AcctSvcrRef") or _text(entry, "NtryRef")
    lines.append(StatementLine(number, day, amount if indicator == "CRDT" else -amount, currency.upper(),
                               description or "(no description)", reference=reference,
                               source_id=f"camt:{reference[:120]}" if reference else ""))
