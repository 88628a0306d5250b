"""OFX and QFX (1.x SGML and 2.x XML) read by ofxtools; a line's id is the bank's FITID."""
import io
import re
from datetime import date

from ofxtools.Parser import OFXTree

from hostadmin.money import AmountError, to_minor_units
from hostadmin.statements.line import StatementLine


class FormatError(ValueError):
    """A statement file of a standard format that cannot be read; the message says why."""


def read(data, default_currency):
    """(lines, invalid) of an OFX/QFX file: every bank and card transaction of every statement in it."""
    tree = OFXTree()
    try:
        tree.parse(io.BytesIO(data))
        posted = _posted_days(tree.getroot())
        ofx = tree.convert()
    except Exception as error:  # ofxtools raises its own errors and plain ValueErrors alike
        raise FormatError(f"This OFX file cannot be read ({str(error)[:200]}).") from None
    lines, invalid, number = [], [], 0
    for statement in ofx.statements:
        currency = (getattr(statement, "curdef", None) or default_currency).upper()
        for transaction in statement.transactions:
            number += 1
            own = getattr(transaction, "currency", None)
            code = (own.cursym if own is not None else currency).upper()
            try:
                amount = to_minor_units(transaction.trnamt, code)
            except AmountError as error:
                invalid.append({"line": number, "error": f"“{transaction.trnamt}” {error}"})
                continue
            if amount == 0:
                invalid.append({"line": number, "error": "the amount is zero"})
                continue
            text = " ".join(part for part in (transaction.name, getattr(transaction, "memo", None)) if part)
            fitid = str(transaction.fitid or "")
            day = posted.get(fitid) or transaction.dtposted.date()
            lines.append(StatementLine(number, day, amount, code,
                                       text or transaction.trntype or "", reference=fitid,
                                       source_id=f"ofx:{fitid[:120]}" if fitid else ""))
    return lines, invalid


def _posted_days(root):
    """FITID -> the day the bank wrote in DTPOSTED (YYYYMMDD…[offset:zone]).

    ofxtools converts DTPOSTED to UTC, so an evening posting west of Greenwich (20:00 [-5:EST]) would land
    on the next day; the bank's statement means its own calendar day. A FITID seen with two days is left
    out (the converted date is used).
    """
    days, clashing = {}, set()
    for element in root.iter("STMTTRN"):
        fitid, posted = element.findtext("FITID"), element.findtext("DTPOSTED")
        match = re.match(r"\s*(\d{4})(\d{2})(\d{2})", posted or "")
        if not fitid or not match:
            continue
        try:
            day = date(*(int(part) for part in match.groups()))
        except ValueError:
            continue  # ofxtools refuses the date itself, with its own message
        key = fitid.strip()
        if days.get(key, day) != day:
            clashing.add(key)
        days[key] = day
    return {key: day for key, day in days.items() if key not in clashing}
