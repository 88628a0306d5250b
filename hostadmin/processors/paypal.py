"""PayPal: offline verification of PAYPAL-TRANSMISSION-SIG, and PayPal events as domain events.

The signed message is transmission_id|transmission_time|webhook_id|crc32(raw body) (crc32 in decimal),
signed SHA256withRSA by the certificate at PAYPAL-CERT-URL (paypal_certs.py fetches and validates it).
"""
import base64
import binascii
import re
import zlib
from decimal import Decimal, InvalidOperation

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from hostadmin.money import AmountError, is_currency, to_minor_units
from hostadmin.processors import paypal_certs, timestamps
from hostadmin.processors.events import ContributionPaid, ExpensePaid, Recorded, Refunded
from hostadmin.processors.verification import InvalidBody, VerificationError, parse_json
from hostadmin.text import clean_line

HEADERS = ("PAYPAL-TRANSMISSION-ID", "PAYPAL-TRANSMISSION-TIME", "PAYPAL-TRANSMISSION-SIG", "PAYPAL-CERT-URL")
MAX_HEADER = 1000
PAYOUT_FAILED = {"PAYMENT.PAYOUTS-ITEM.FAILED", "PAYMENT.PAYOUTS-ITEM.RETURNED", "PAYMENT.PAYOUTS-ITEM.BLOCKED",
                 "PAYMENT.PAYOUTS-ITEM.DENIED", "PAYMENT.PAYOUTS-ITEM.CANCELED"}
EXPENSE_ITEM = re.compile(r"^(?:expense-)?([0-9]{1,18})$")


def verify(raw, headers, webhook_id, now):
    """The event (a dict) if PayPal's certificate signed this transmission of `raw` for `webhook_id`."""
    values = {}
    for name in HEADERS:
        value = headers.get(name)
        if not value:
            raise VerificationError("missing signature header")
        if len(value) > MAX_HEADER or not value.isascii():
            raise VerificationError("signature header malformed")
        values[name] = value.strip()
    algorithm = headers.get("PAYPAL-AUTH-ALGO", "SHA256withRSA")
    if algorithm != "SHA256withRSA":
        raise VerificationError("unsupported signature algorithm")
    try:
        signature = base64.b64decode(values["PAYPAL-TRANSMISSION-SIG"], validate=True)
    except (binascii.Error, ValueError):
        raise VerificationError("signature is not base64") from None
    leaf = paypal_certs.certificate(values["PAYPAL-CERT-URL"], now)
    message = (f"{values['PAYPAL-TRANSMISSION-ID']}|{values['PAYPAL-TRANSMISSION-TIME']}|{webhook_id}|"
               f"{zlib.crc32(raw)}").encode()
    try:
        leaf.public_key().verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, TypeError, AttributeError):
        raise VerificationError("bad signature") from None
    body = parse_json(raw)
    if not isinstance(body.get("id"), str) or not isinstance(body.get("event_type"), str):
        raise InvalidBody("not a PayPal event (no id or event_type)")
    if not isinstance(body.get("resource"), dict):
        raise InvalidBody("not a PayPal event (no resource)")
    return body


def money_of(amount, name="amount"):
    """PayPal's {"currency_code": "USD", "value": "10.00"} -> (minor units, currency); refuses the rest."""
    if not isinstance(amount, dict):
        raise InvalidBody(f"{name} is missing")
    currency, value = str(amount.get("currency_code") or ""), amount.get("value")
    if not is_currency(currency):
        raise InvalidBody(f"{name}: unknown currency {clean_line(currency, 10)!r}")
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{1,15}(\.[0-9]{1,3})?", value):
        raise InvalidBody(f"{name} {clean_line(str(value), 30)!r} is not an amount")
    try:
        return to_minor_units(Decimal(value), currency), currency
    except (AmountError, InvalidOperation) as error:
        raise InvalidBody(f"{name}: {error}") from None


def translate(body, cleared_field, now):
    """The domain events one PayPal event means."""
    kind, resource = body["event_type"], body["resource"]
    if kind == "PAYMENT.CAPTURE.COMPLETED":
        amount, currency = money_of(resource.get("amount"))
        if amount == 0:
            raise InvalidBody("a capture of zero")
        breakdown = resource.get("seller_receivable_breakdown")
        fee = None
        if isinstance(breakdown, dict) and isinstance(breakdown.get("paypal_fee"), dict):
            fee, _ = money_of(breakdown["paypal_fee"], "paypal_fee")
        custom = resource.get("custom_id")
        return [ContributionPaid(
            ref=_id(resource.get("id")), collective_slug=clean_line(custom, 100).strip() if isinstance(custom, str)
            else None, amount=amount, currency=currency,
            cleared_at=timestamps.from_iso(resource.get("create_time"), now, "create_time"),
            cleared_field="create_time", raw_timestamps={"create_time": resource.get("create_time"),
                                                         "update_time": resource.get("update_time")},
            description=clean_line(resource.get("invoice_id") or "", 200) or "PayPal payment", fee=fee)]
    if kind == "PAYMENT.CAPTURE.REFUNDED":
        amount, currency = money_of(resource.get("amount"))
        return [Refunded(_capture_of(resource), None, currency, {"create_time": resource.get("create_time")},
                         refund_id=_id(resource.get("id")), amount=amount)]
    if kind == "PAYMENT.PAYOUTS-ITEM.SUCCEEDED" or kind in PAYOUT_FAILED:
        item = resource.get("payout_item") if isinstance(resource.get("payout_item"), dict) else {}
        match = EXPENSE_ITEM.fullmatch(str(item.get("sender_item_id") or ""))
        if match is None:
            return [Recorded(None, "the payout names no expense (sender_item_id)")]
        processed = resource.get("time_processed")
        state = "paid" if kind.endswith("SUCCEEDED") else "failed"
        cleared_at = timestamps.from_iso(processed, now, "time_processed") if state == "paid" else now
        return [ExpensePaid(ref=_id(resource.get("payout_item_id")), expense_id=int(match.group(1)), amount=None,
                            currency=None, cleared_at=cleared_at, cleared_field="time_processed",
                            raw_timestamps={"time_processed": processed,
                                            "transaction_status": resource.get("transaction_status")},
                            state=state)]
    return [Recorded(None, f"{clean_line(kind, 100)} is recorded only")]


def _id(value):
    if not isinstance(value, str) or not value or len(value) > 255:
        raise InvalidBody("the resource has no id")
    return clean_line(value, 255)


def _capture_of(refund):
    for link in refund.get("links") or []:
        if isinstance(link, dict) and link.get("rel") == "up" and isinstance(link.get("href"), str):
            return _id(link["href"].rstrip("/").rsplit("/", 1)[-1])
    raise InvalidBody("the refund names no capture")
