"""Talking to Plaid for the sync engine: one /transactions/sync page, retries, error classification."""
import time
from dataclasses import dataclass

import plaid
from flask import current_app
from plaid.model.transactions_sync_request import TransactionsSyncRequest

from hostadmin.banking.decode import MalformedResponse, decode_page
from hostadmin.banking.models import ItemStatus
from hostadmin.banking.plaid_client import is_network_error, plaid_error, timeout

RETRYABLE_CODES = {"TRANSACTIONS_SYNC_LIMIT", "RATE_LIMIT", "INTERNAL_SERVER_ERROR", "PLANNED_MAINTENANCE",
                   "INSTITUTION_DOWN", "INSTITUTION_NOT_RESPONDING", "INSTITUTION_NO_LONGER_SUPPORTED"}
# Plaid error codes that need the host to act; retrying cannot help.
ITEM_STATUS_BY_CODE = {
    "ITEM_LOGIN_REQUIRED": ItemStatus.LOGIN_REQUIRED, "PENDING_EXPIRATION": ItemStatus.PENDING_EXPIRATION,
    "USER_PERMISSION_REVOKED": ItemStatus.REVOKED, "ITEM_NOT_FOUND": ItemStatus.REVOKED,
    "INVALID_ACCESS_TOKEN": ItemStatus.REVOKED, "ACCESS_NOT_GRANTED": ItemStatus.REVOKED,
}
NEEDS_USER_CODES = {"ITEM_LOCKED", "USER_SETUP_REQUIRED", "PASSWORD_RESET_REQUIRED", "NO_ACCOUNTS",
                    "INSUFFICIENT_CREDENTIALS", "INVALID_CREDENTIALS", "INVALID_MFA", "MFA_NOT_SUPPORTED"}


class SyncError(Exception):
    """A run that could not finish. `retryable`: trying later can help; `item_error`: the host must act."""

    def __init__(self, message, code=None, retryable=False, item_error=False):
        super().__init__(message)
        self.code = code
        self.retryable = retryable
        self.item_error = item_error


class MutationDuringPagination(Exception):
    pass


class CursorNotForItem(Exception):
    pass


@dataclass
class Timings:
    """Where a run's time went: Plaid's answer vs the app's own share."""

    http: float = 0.0
    decode: float = 0.0
    stage: float = 0.0
    apply: float = 0.0


def fetch_page(client, access_token, cursor, timings):
    """One /transactions/sync call, retried with backoff on rate limits, 5xx and timeouts."""
    config = current_app.config
    attempts = config.get("SYNC_MAX_ATTEMPTS", 4)
    base_delay = config.get("SYNC_RETRY_BASE_SECONDS", 1.0)
    sleep = config.get("SYNC_SLEEP", time.sleep)
    request = TransactionsSyncRequest(access_token=access_token, count=config.get("SYNC_PAGE_SIZE", 500))
    if cursor:  # never cursor=None: plaid-python raises ApiTypeError (PLAID.md §15.4)
        request.cursor = cursor
    for attempt in range(1, attempts + 1):
        started = time.perf_counter()
        try:
            response = client.transactions_sync(request, _preload_content=False, _request_timeout=timeout())
            body = response.data
            timings.http += time.perf_counter() - started
            started = time.perf_counter()
            page = decode_page(body)
            timings.decode += time.perf_counter() - started
            return page
        except plaid.ApiException as exc:
            timings.http += time.perf_counter() - started
            code, error_type, message = plaid_error(exc)
            if code == "TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION":
                raise MutationDuringPagination() from None
            if code == "INVALID_FIELD" and "cursor" in (message or ""):
                raise CursorNotForItem() from None
            retryable = exc.status in (429, 500, 502, 503, 504) or exc.status == 0 or code in RETRYABLE_CODES
            error = SyncError(message or f"Plaid answered HTTP {exc.status}", code or f"HTTP_{exc.status}",
                              retryable=retryable,
                              item_error=error_type == "ITEM_ERROR" or code in ITEM_STATUS_BY_CODE)
        except MalformedResponse as exc:
            raise SyncError(f"Plaid sent a malformed response: {exc}", "MALFORMED_RESPONSE") from None
        except Exception as exc:  # noqa: BLE001 (urllib3 raises its own hierarchy)
            if not is_network_error(exc):
                raise
            timings.http += time.perf_counter() - started
            error = SyncError(f"network error talking to Plaid: {type(exc).__name__}", "NETWORK_ERROR",
                              retryable=True)
        if not error.retryable or attempt == attempts:
            raise error
        sleep(base_delay * 2 ** (attempt - 1))
    raise AssertionError("unreachable")
