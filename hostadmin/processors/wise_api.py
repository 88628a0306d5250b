"""Which expense a Wise transfer pays, asked of Wise's API when a webhook names a transfer no expense records.

A Wise webhook carries only the transfer id. When the host gave an API token, the transfer is read
(`GET /v1/transfers/{id}`) and its reference, `expense-<id>` as the admin typed it when paying in Wise, names
the expense; the transfer's target amount and currency must be the expense's, or nothing is matched. Without a
token, or when the reference names nothing, the event waits on the Processors page for an admin to match it.
"""
import json
import logging
import re
import urllib.error
import urllib.request
from decimal import Decimal, InvalidOperation

from flask import current_app
from rq import Retry

from hostadmin.extensions import db
from hostadmin.jobs import app_job, enqueue
from hostadmin.money import AmountError, is_currency, to_minor_units
from hostadmin.processors import connections
from hostadmin.text import clean_line

log = logging.getLogger("hostadmin.processors")
LIVE_BASE, SANDBOX_BASE = "https://api.wise.com", "https://api.sandbox.transferwise.tech"
TIMEOUT_SECONDS = 10
MAX_RESPONSE_BYTES = 1 << 20
RETRY_INTERVALS = [60, 300, 900, 3600, 3600 * 6]
# "expense-12", "Expense 12", "expense #12": what an admin types as the transfer's reference.
REFERENCE = re.compile(r"expense[\s#-]*0*([1-9][0-9]{0,17})", re.IGNORECASE)


class LookupUnavailable(Exception):
    """Wise could not be asked now (the retried job asks again)."""


def api_base(connection):
    return current_app.config.get("WISE_API_BASE") or (SANDBOX_BASE if connection.sandbox else LIVE_BASE)


def fetch_transfer(connection, token, transfer_id):
    """The transfer as a dict, None if Wise does not know it; LookupUnavailable if Wise cannot answer now."""
    request = urllib.request.Request(f"{api_base(connection)}/v1/transfers/{int(transfer_id)}",
                                     headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            body = response.read(MAX_RESPONSE_BYTES + 1)
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise LookupUnavailable(f"Wise answered HTTP {error.code}") from None
    except (urllib.error.URLError, OSError) as error:
        raise LookupUnavailable(f"Wise cannot be reached: {clean_line(str(error), 200)}") from None
    try:
        found = json.loads(body) if len(body) <= MAX_RESPONSE_BYTES else None
    except ValueError:
        found = None
    if not isinstance(found, dict):
        raise LookupUnavailable("Wise's answer is not a transfer")
    return found


def expense_named_by(transfer):
    """(expense id, None) named by the transfer's reference, or (None, why not)."""
    details = transfer.get("details") if isinstance(transfer.get("details"), dict) else {}
    reference = transfer.get("reference") or details.get("reference")
    if not isinstance(reference, str) or not reference.strip():
        return None, "its Wise reference is empty"
    match = REFERENCE.fullmatch(reference.strip())
    if match is None:
        return None, f"its Wise reference {clean_line(reference, 60)!r} names no expense (expense-<id>)"
    return int(match.group(1)), None


def target_amount(transfer):
    """(minor units, currency) the payee receives, or None if the transfer does not say."""
    currency = str(transfer.get("targetCurrency") or "").upper()
    value = transfer.get("targetValue")
    if not is_currency(currency) or isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        return to_minor_units(Decimal(str(value)), currency), currency
    except (InvalidOperation, AmountError):
        return None


def match(host, connection, transfer_id):
    """Ask Wise which expense `transfer_id` pays and record it (applying the waiting events); returns why not.

    None when matched. Raises LookupUnavailable while Wise cannot be asked.
    """
    from hostadmin.funds.records import RecordError
    from hostadmin.ledger.models import Expense
    from hostadmin.processors import service

    token = connections.verification_of(connection).api_key
    transfer = fetch_transfer(connection, token, transfer_id)
    if transfer is None:
        return "Wise does not know this transfer (another Wise profile's token?)"
    expense_id, why = expense_named_by(transfer)
    if expense_id is None:
        return why
    expense = db.session.get(Expense, expense_id)
    if expense is None or expense.host_id != host.id:
        return f"its Wise reference names expense #{expense_id}, which is not this host's"
    amount = target_amount(transfer)
    if amount != (expense.amount, expense.currency):
        return (f"its Wise reference names expense #{expense_id}, but the transfer's amount "
                f"({clean_line(str(transfer.get('targetValue')), 30)} "
                f"{clean_line(str(transfer.get('targetCurrency')), 10)}) is not the expense's")
    try:
        service.set_wise_transfer(host, None, expense_id, transfer_id)
    except RecordError as error:
        return f"its Wise reference names expense #{expense_id}, but {error}"
    return None


def find_expense(host, connection, transfer_id):
    """For a Wise event waiting on a transfer no expense records: match(), or a retried job while Wise
    cannot be asked. Returns why it still waits (None: matched, or not a transfer this can look up)."""
    from sqlalchemy import select

    from hostadmin.ledger.models import Expense

    if connection.processor != "wise" or not connection.api_key_encrypted:
        return None  # without a token the Processors page asks an admin to match it
    if db.session.scalar(select(Expense.id).where(Expense.host_id == host.id,
                                                  Expense.wise_transfer_id == transfer_id)):
        return None  # the expense is known: the event waits for its payment, not for a match
    try:
        return match(host, connection, transfer_id)
    except LookupUnavailable as error:
        log.warning("wise transfer %s not looked up yet: %s", transfer_id, error)
        enqueue(lookup_job, host.id, transfer_id, job_id=f"wise-lookup-{host.id}-{transfer_id}",
                retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS))
        return f"Wise could not be asked yet ({error}); asking again later"


@app_job
def lookup_job(host_id, transfer_id):
    """Ask Wise again which expense the transfer pays (raises while Wise is unreachable, so RQ retries)."""
    from hostadmin.ledger.models import Host

    host = db.session.get(Host, host_id)
    connection = connections.connection_of(host, "wise") if host else None
    if connection is None:
        return "wise is not connected"
    return match(host, connection, transfer_id) or "matched"
