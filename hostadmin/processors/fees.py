"""Stripe fees a webhook does not carry: its balance transaction fetched with the host's API key.

Without a key, or while Stripe cannot be reached, the contribution is recorded gross at once and the
fee follows: a retried job fetches it (or a later charge.updated carries it) and adds the fee pair.
"""
import logging

import stripe as stripe_lib
from flask import current_app
from rq import Retry

from hostadmin.extensions import db
from hostadmin.jobs import app_job, enqueue
from hostadmin.processors import connections, stripe
from hostadmin.processors.models import ProcessorEvent

log = logging.getLogger("hostadmin.processors")
RETRY_INTERVALS = [60, 300, 900, 3600, 3600 * 6]


class FeeUnavailable(Exception):
    """Stripe could not be asked for the balance transaction (the retry asks again)."""


def stripe_client(api_key):
    """A Stripe client on STRIPE_API_BASE (Stripe itself unless configured otherwise)."""
    base = current_app.config.get("STRIPE_API_BASE") or stripe_lib.DEFAULT_API_BASE
    return stripe_lib.StripeClient(api_key, base_addresses={"api": base}, max_network_retries=1)


def balance_transaction(api_key, transaction_id):
    """The balance transaction as a dict; FeeUnavailable when Stripe cannot give it now."""
    try:
        found = stripe_client(api_key).v1.balance_transactions.retrieve(transaction_id)
    except stripe_lib.StripeError as error:
        raise FeeUnavailable(f"{type(error).__name__}: {error.user_message or 'no answer'}") from None
    return found.to_dict()


def fetch_fee(connection, body):
    """The Stripe event with its balance transaction filled in when the host gave an API key; else as is."""
    if connection.processor != "stripe" or not connection.api_key_encrypted:
        return body
    transaction_id = stripe.balance_transaction_id(body)
    if transaction_id is None:
        return body
    api_key = connections.verification_of(connection).api_key
    try:
        return stripe.with_balance_transaction(body, balance_transaction(api_key, transaction_id))
    except FeeUnavailable as error:
        log.warning("stripe fee of %s not fetched yet: %s", transaction_id, error)
        enqueue(fetch_fee_job, connection.host_id, body["id"], job_id=f"stripe-fee-{connection.host_id}-"
                f"{transaction_id}"[:100], retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS))
        return body


@app_job
def fetch_fee_job(host_id, event_id):
    """Fetch a charge's fee from Stripe and add it (raises while Stripe is unreachable, so RQ retries)."""
    from hostadmin.ledger.models import Host
    from hostadmin.processors import apply

    host = db.session.get(Host, host_id)
    connection = connections.connection_of(host, "stripe")
    event = db.session.scalar(db.select(ProcessorEvent).where(
        ProcessorEvent.host_id == host_id, ProcessorEvent.processor == "stripe", ProcessorEvent.event_id == event_id))
    if connection is None or connection.api_key_encrypted is None or event is None:
        return "nothing to fetch"
    transaction_id = stripe.balance_transaction_id(event.body)
    found = balance_transaction(connections.verification_of(connection).api_key, transaction_id)
    for item in stripe.translate(stripe.with_balance_transaction(event.body, found), connection.cleared_field,
                                 event.received_at):
        if getattr(item, "fee", None) is not None:
            result = apply.fee_charged(host, "stripe", item.ref, item.fee)
            db.session.commit()
            return result
    return "no fee in the balance transaction"
