"""OFX and QFX (1.x SGML and 2.x XML) read by ofxtools; a line's id is the bank's FITID."""
import io

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
            lines.append(StatementLine(number, transaction.dtposted.date(), amount, code,
                                       text or transaction.trntype or "", reference=fitid,
                                       source_id=f"ofx:{fitid[:120]}" if fitid else ""))
    return lines, invalid
