"""Stripe: the Stripe-Signature check (the official library's) and Stripe events as domain events.

verify() sees the raw bytes before anything parses them. The library checks the HMAC-SHA256 of
"t.body" against every v1 signature in constant time; the 5-minute tolerance is checked here against
the app's clock (the library would read the wall clock), in both directions.
"""
import json

from stripe import SignatureVerificationError, WebhookSignature

from hostadmin.money import is_currency, minor_digits
from hostadmin.processors import timestamps
from hostadmin.processors.events import (
    CardSpent, ContributionPaid, DisputeClosed, DisputeOpened, FeeCharged, PayoutPaid, Recorded, Refunded,
)
from hostadmin.processors.verification import InvalidBody, VerificationError, parse_json
from hostadmin.text import clean_line

TOLERANCE_SECONDS = 300
# Stripe's own minor units (docs.stripe.com/currencies): zero-decimal and three-decimal currencies;
# every other currency, ISK and UGX included, is sent in hundredths.
STRIPE_ZERO_DECIMAL = {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "VND", "VUV",
                       "XAF", "XOF", "XPF"}
STRIPE_THREE_DECIMAL = {"BHD", "JOD", "KWD", "OMR", "TND"}


def verify(raw, header, secret, now):
    """The event (a dict) if `header` proves Stripe signed `raw` within 5 minutes of `now`; else raises."""
    if not header:
        raise VerificationError("missing signature header")
    if len(header) > 2000:
        raise VerificationError("signature header too long")
    try:
        WebhookSignature.verify_header(raw.decode("utf-8"), header, secret, tolerance=None)
    except UnicodeDecodeError:
        raise VerificationError("body is not UTF-8") from None
    except SignatureVerificationError:
        raise VerificationError("bad signature") from None
    stamp = _signed_timestamp(header)
    if abs(now.timestamp() - stamp) > TOLERANCE_SECONDS:
        raise VerificationError("stale timestamp")
    event = parse_json(raw)
    if not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
        raise InvalidBody("not a Stripe event (no id or type)")
    if not isinstance((event.get("data") or {}).get("object"), dict):
        raise InvalidBody("not a Stripe event (no data.object)")
    return event


def _signed_timestamp(header):
    # The library read the same header (the HMAC covered this t), so it parses; only the first t counts.
    for part in header.split(","):
        key, _, value = part.partition("=")
        if key == "t":
            return int(value)
    raise VerificationError("bad signature")


def amount_of(value, currency, name="amount"):
    """Stripe's integer amount in `currency` -> minor units at CLDR precision (exact, or refused)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidBody(f"{name} must be a whole, non-negative number")
    stripe_digits = 0 if currency in STRIPE_ZERO_DECIMAL else 3 if currency in STRIPE_THREE_DECIMAL else 2
    shift = minor_digits(currency) - stripe_digits
    if shift >= 0:
        return value * 10**shift
    if value % 10**-shift:
        raise InvalidBody(f"{name} {value} is not a whole amount of {currency}")
    return value // 10**-shift


def currency_of(obj):
    """The object's currency as an ISO code (Stripe sends lower case)."""
    code = str(obj.get("currency") or "").upper()
    if not is_currency(code):
        raise InvalidBody(f"unknown currency {clean_line(code, 10)!r}")
    return code


def translate(event, cleared_field, now):
    """The domain events one Stripe event means (`cleared_field`: the host's choice for cleared_at)."""
    kind, obj = event["type"], event["data"]["object"]
    if kind == "charge.succeeded":
        return [_contribution(obj, obj, cleared_field, now)]
    if kind == "payment_intent.succeeded":
        charge = obj.get("latest_charge")
        if isinstance(charge, dict):
            return [_contribution(charge, charge, cleared_field, now)]
        # The intent alone: keyed by its charge id, so the charge.succeeded of the same payment is no second one.
        return [_contribution(obj, obj, cleared_field, now, ref=charge if isinstance(charge, str) else None,
                              amount_field="amount_received")]
    if kind == "charge.refunded":
        currency = currency_of(obj)
        return [Refunded(_id(obj), amount_of(obj.get("amount_refunded"), currency, "amount_refunded"), currency,
                         {"created": obj.get("created")})]
    if kind in ("charge.updated", "charge.captured"):
        transaction = obj.get("balance_transaction")
        if isinstance(transaction, dict) and transaction.get("fee") is not None:
            currency = currency_of(transaction)
            return [FeeCharged(_id(obj), amount_of(transaction.get("fee"), currency, "fee"), currency,
                               {"available_on": transaction.get("available_on")})]
        return [Recorded(_id(obj), "no fee in this update")]
    if kind == "payout.paid":
        currency = currency_of(obj)
        # payout.paid comes on the arrival date; a few days ahead is a bank holiday, not an absurd date.
        arrival = timestamps.from_epoch(obj.get("arrival_date"), now + timestamps.AHEAD * 7, "arrival_date")
        return [PayoutPaid(_id(obj), amount_of(obj.get("amount"), currency), currency, arrival,
                           {"arrival_date": obj.get("arrival_date"), "created": obj.get("created")})]
    if kind == "charge.dispute.created":
        return [_dispute_opened(obj, now)]
    if kind == "charge.dispute.closed":
        return [_dispute_closed(event, obj, now)]
    if kind == "issuing_transaction.created":
        return [_card_spent(obj, now)]
    if kind == "charge.refund.updated":
        return [Recorded(obj.get("charge") if isinstance(obj.get("charge"), str) else None,
                         f"refund status {clean_line(str(obj.get('status')), 30)}: the money moves with "
                         f"charge.refunded")]
    return [Recorded(None, f"{clean_line(kind, 100)} is recorded only")]


def balance_transaction_id(event):
    """The id of the charge's balance transaction when the event names it without its fee."""
    obj = event["data"]["object"]
    charge = obj.get("latest_charge") if event["type"] == "payment_intent.succeeded" else obj
    transaction = charge.get("balance_transaction") if isinstance(charge, dict) else None
    return transaction if isinstance(transaction, str) and transaction.startswith("txn_") else None


def with_balance_transaction(event, transaction):
    """The event with its charge's balance transaction (fetched from Stripe) in place of the id."""
    event = json.loads(json.dumps(event))
    obj = event["data"]["object"]
    charge = obj.get("latest_charge") if event["type"] == "payment_intent.succeeded" else obj
    charge["balance_transaction"] = transaction
    return event


def _id(obj):
    ref = obj.get("id")
    if not isinstance(ref, str) or not ref or len(ref) > 255:
        raise InvalidBody("the object has no id")
    return ref


def _contribution(obj, charge, cleared_field, now, ref=None, amount_field="amount"):
    currency = currency_of(obj)
    amount = amount_of(obj.get(amount_field), currency, amount_field)
    if amount == 0:
        raise InvalidBody("a charge of zero")
    created = timestamps.from_epoch(obj.get("created"), now, "created")
    raw = {"created": obj.get("created")}
    transaction = charge.get("balance_transaction")
    fee = available_on = None
    if isinstance(transaction, dict):
        if transaction.get("fee") is not None:
            fee = amount_of(transaction.get("fee"), currency_of(transaction), "fee")
        if transaction.get("available_on") is not None:
            raw["available_on"] = transaction.get("available_on")
            available_on = timestamps.from_epoch(transaction.get("available_on"), now + timestamps.AHEAD * 7,
                                                 "available_on")
    cleared_at, used = created, "charge_created"
    if cleared_field == "available_on" and available_on is not None:
        cleared_at, used = available_on, "available_on"
    metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    slug = metadata.get("collective")
    billing = charge.get("billing_details") if isinstance(charge.get("billing_details"), dict) else {}
    return ContributionPaid(
        ref=ref or _id(charge), collective_slug=clean_line(slug, 100).strip() if isinstance(slug, str) else None,
        amount=amount, currency=currency, cleared_at=cleared_at, cleared_field=used, raw_timestamps=raw,
        description=clean_line(obj.get("description") or "", 300) or "Stripe payment",
        contributor_name=clean_line(billing.get("name"), 200) if isinstance(billing.get("name"), str) else None,
        fee=fee)


def _charge_of(dispute):
    charge = dispute.get("charge")
    charge = charge.get("id") if isinstance(charge, dict) else charge
    if not isinstance(charge, str) or not charge or len(charge) > 255:
        raise InvalidBody("the dispute names no charge")
    return charge


def _dispute_opened(obj, now):
    # An inquiry ("warning_needs_response") moves no money: Stripe withdraws funds only for a real dispute.
    status = str(obj.get("status") or "")
    if status.startswith("warning_"):
        return Recorded(_charge_of(obj), f"an inquiry ({clean_line(status, 40)}): Stripe holds no money")
    currency = currency_of(obj)
    amount = amount_of(obj.get("amount"), currency)
    if amount == 0:
        raise InvalidBody("a dispute of zero")
    return DisputeOpened(_charge_of(obj), _id(obj), amount, currency,
                         timestamps.from_epoch(obj.get("created"), now, "created"), {"created": obj.get("created")})


def _dispute_closed(event, obj, now):
    status = str(obj.get("status") or "")
    if status not in ("won", "lost"):
        return Recorded(_charge_of(obj), f"dispute closed as {clean_line(status, 40)}: no money moved")
    # The dispute object has no closing time; the event's own `created` is when Stripe closed it.
    return DisputeClosed(_charge_of(obj), _id(obj), status,
                         timestamps.from_epoch(event.get("created"), now, "event created"),
                         {"created": obj.get("created"), "closed": event.get("created")})


def _card_spent(obj, now):
    """An Issuing transaction: a capture (negative amount: money out of the balance) is an expense paid."""
    kind = str(obj.get("type") or "")
    if kind != "capture":
        return Recorded(_id(obj), f"card transaction of type {clean_line(kind, 30)}: handle it on the expense "
                                  f"it belongs to")
    currency = currency_of(obj)
    value = obj.get("amount")
    if isinstance(value, bool) or not isinstance(value, int) or value >= 0:
        raise InvalidBody("a card capture's amount is negative (money out of the balance)")
    card = obj.get("card") if isinstance(obj.get("card"), dict) else {}
    metadata = card.get("metadata") if isinstance(card.get("metadata"), dict) else {}
    if not metadata.get("collective") and isinstance(obj.get("metadata"), dict):
        metadata = obj["metadata"]
    slug = metadata.get("collective")
    merchant_data = obj.get("merchant_data") if isinstance(obj.get("merchant_data"), dict) else {}
    merchant = clean_line(merchant_data.get("name"), 200) if isinstance(merchant_data.get("name"), str) else ""
    return CardSpent(
        ref=_id(obj), collective_slug=clean_line(slug, 100).strip() if isinstance(slug, str) else None,
        amount=amount_of(-value, currency), currency=currency, merchant=merchant.strip() or "Card merchant",
        cleared_at=timestamps.from_epoch(obj.get("created"), now, "created"), cleared_field="transaction_created",
        raw_timestamps={"created": obj.get("created")},
        description=f"Card purchase: {merchant.strip() or 'unknown merchant'}")
