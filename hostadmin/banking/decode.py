"""Fast, validating decoding of /transactions/sync pages, and the one place Plaid amounts are normalised.

plaid-python's typed models decode ~360 transactions/s; msgspec decodes the
same JSON hundreds of times faster while still checking the fields we use.
Plaid's amount is positive for money LEAVING the account; hostadmin stores
integer minor units, positive for money INTO the host's account.
Text from Plaid is cleaned here (NUL and control characters removed, shortened to
its column); a transaction that still cannot be stored raises InvalidLine, which
the sync records on its run while the rest of the page is imported.
"""
from datetime import date
from decimal import Decimal

import msgspec

from hostadmin.money import AmountError, to_minor_units
from hostadmin.text import clean_line, shorten

# Column sizes of import_rows that bank text must fit.
SOURCE_ID_MAX, CURRENCY_MAX, DESCRIPTION_MAX, MERCHANT_MAX = 128, 10, 500, 200


class MalformedResponse(ValueError):
    """Plaid's response is missing fields or has the wrong types: not retryable."""


class Transaction(msgspec.Struct):
    transaction_id: str
    account_id: str
    # A JSON number, as Plaid sends it. float's shortest repr gives back the exact
    # decimal text for bank amounts, so Decimal(repr(amount)) loses nothing.
    amount: float
    date: date
    pending: bool
    # Absent is read as null: currency_of() then falls back to the unofficial code, then the account's.
    iso_currency_code: str | None = None
    unofficial_currency_code: str | None = None
    authorized_date: date | None = None
    pending_transaction_id: str | None = None
    name: str | None = None
    merchant_name: str | None = None


class RemovedTransaction(msgspec.Struct):
    transaction_id: str
    account_id: str


class AccountBalances(msgspec.Struct):
    iso_currency_code: str | None
    unofficial_currency_code: str | None


class Account(msgspec.Struct):
    account_id: str
    name: str
    mask: str | None
    official_name: str | None
    type: str
    subtype: str | None
    balances: AccountBalances
    persistent_account_id: str | None = None


class SyncPage(msgspec.Struct):
    added: list[msgspec.Raw]
    modified: list[msgspec.Raw]
    removed: list[RemovedTransaction]
    accounts: list[Account]
    next_cursor: str
    has_more: bool
    transactions_update_status: str
    request_id: str


_page_decoder = msgspec.json.Decoder(SyncPage)
_transaction_decoder = msgspec.json.Decoder(Transaction)


def decode_page(body: bytes) -> SyncPage:
    """Decode a /transactions/sync response body; MalformedResponse if it is not Plaid's shape."""
    try:
        return _page_decoder.decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError, RecursionError) as error:
        raise MalformedResponse(f"/transactions/sync response: {error}") from None


class InvalidLine(ValueError):
    """One transaction that cannot become an import row; the message says why."""


class InvalidAmount(InvalidLine):
    """The amount is not a whole number of minor units of its currency, or is out of bounds."""


def decode_transaction(raw: msgspec.Raw) -> Transaction:
    """Decode one transaction of a page; InvalidLine if it is not in Plaid's shape."""
    try:
        return _transaction_decoder.decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError, RecursionError) as error:
        raise InvalidLine(f"not in Plaid's transaction shape: {error}") from None


def invalid_entry(raw, reason) -> dict:
    """What a run keeps of a transaction it could not import: its id, why, and enough to find it at the bank."""
    try:
        fields = msgspec.json.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError):
        fields = None
    fields = fields if isinstance(fields, dict) else {}
    source_id = fields.get("transaction_id")
    summary = " · ".join(clean_line(str(fields[key])) for key in ("date", "amount", "iso_currency_code", "name")
                         if fields.get(key) is not None)
    return {"source_id": clean_line(source_id, SOURCE_ID_MAX) if isinstance(source_id, str) else None,
            "reason": clean_line(str(reason), 500), "summary": shorten(summary, 200)}


def minor_units_into_account(plaid_amount: float, currency: str) -> int:
    """Plaid amount (+ = money out, major units) -> hostadmin amount (+ = money in, minor units)."""
    try:
        return -to_minor_units(Decimal(repr(plaid_amount)), currency)
    except AmountError as error:
        raise InvalidAmount(f"amount {plaid_amount} {currency} {error}") from None


class BankLine(msgspec.Struct, frozen=True, array_like=True):
    """One normalised bank transaction, ready to become an import row (compact when spooled)."""

    source_id: str
    plaid_account_id: str
    date: date
    authorized_date: date | None
    amount: int
    currency: str
    description: str
    merchant_name: str | None
    pending: bool
    pending_source_id: str | None
    raw: str


def currency_of(transaction: Transaction, account_currency: str | None) -> str | None:
    """iso_currency_code, else unofficial_currency_code, else the account's currency."""
    return transaction.iso_currency_code or transaction.unofficial_currency_code or account_currency


def bank_line(transaction: Transaction, raw: msgspec.Raw, currency: str) -> BankLine:
    """Normalise a decoded transaction, its text cleaned; InvalidLine if it still cannot be stored."""
    name, merchant = clean_line(transaction.name), clean_line(transaction.merchant_name)
    code = clean_line(currency).strip()
    if not code or len(code) > CURRENCY_MAX:
        raise InvalidLine(f"currency code {shorten(repr(currency), 40)} cannot be stored")
    return BankLine(
        source_id=_identifier(transaction.transaction_id, "transaction_id"),
        plaid_account_id=transaction.account_id,
        date=transaction.date,
        authorized_date=transaction.authorized_date,
        amount=minor_units_into_account(transaction.amount, code),
        currency=code,
        description=shorten(name or merchant or "", DESCRIPTION_MAX),
        merchant_name=shorten(merchant, MERCHANT_MAX) or None,
        pending=transaction.pending,
        pending_source_id=(_identifier(transaction.pending_transaction_id, "pending_transaction_id")
                           if transaction.pending_transaction_id else None),
        # The bank's record as received: JSON text, where a NUL is the escape \u0000, never the byte.
        raw=bytes(raw).decode(),
    )


def _identifier(value: str, field: str) -> str:
    """An id is the row's identity: it is refused, never silently changed, if it cannot be stored."""
    if not value or len(value) > SOURCE_ID_MAX or clean_line(value) != value:
        raise InvalidLine(f"{field} {shorten(repr(value), 60)} cannot be stored "
                          f"(empty, longer than {SOURCE_ID_MAX} characters or with control characters)")
    return value
