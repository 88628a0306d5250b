"""Fast, validating decoding of /transactions/sync pages, and the one place Plaid amounts are normalised.

plaid-python's typed models decode ~360 transactions/s; msgspec decodes the
same JSON hundreds of times faster while still checking the fields we use.
Plaid's amount is positive for money LEAVING the account; hostadmin stores
integer minor units, positive for money INTO the host's account.
"""
from datetime import date
from decimal import Decimal

import msgspec

from hostadmin.money import minor_digits


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
    except (msgspec.ValidationError, msgspec.DecodeError) as error:
        raise MalformedResponse(f"/transactions/sync response: {error}") from None


def decode_transaction(raw: msgspec.Raw) -> Transaction:
    try:
        return _transaction_decoder.decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError) as error:
        raise MalformedResponse(f"transaction in /transactions/sync response: {error}") from None


class InvalidAmount(ValueError):
    """The amount cannot be expressed in whole minor units of its currency."""


def minor_units_into_account(plaid_amount: float, currency: str) -> int:
    """Plaid amount (+ = money out, major units) -> hostadmin amount (+ = money in, minor units)."""
    digits = minor_digits(currency)
    scaled = Decimal(repr(plaid_amount)).scaleb(digits)
    if scaled != scaled.to_integral_value():
        raise InvalidAmount(f"{plaid_amount} {currency} has more than {digits} decimal places")
    return -int(scaled)


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
    """Normalise a decoded transaction (raises InvalidAmount)."""
    return BankLine(
        source_id=transaction.transaction_id,
        plaid_account_id=transaction.account_id,
        date=transaction.date,
        authorized_date=transaction.authorized_date,
        amount=minor_units_into_account(transaction.amount, currency),
        currency=currency,
        description=(transaction.name or transaction.merchant_name or "")[:500],
        merchant_name=(transaction.merchant_name or None) and transaction.merchant_name[:200],
        pending=transaction.pending,
        pending_source_id=transaction.pending_transaction_id,
        raw=bytes(raw).decode(),
    )
