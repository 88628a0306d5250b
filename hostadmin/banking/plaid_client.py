"""The Plaid API client, built once per app from its configuration and injected into services.

The same services run against the local emulator (PLAID_ENV=local), Plaid's
sandbox and production; only the host and credentials differ.
"""
import json

import plaid
import urllib3
from flask import current_app
from plaid.api import plaid_api

from hostadmin.text import clean_line, clean_text

# Default (connect, read) timeout; the PLAID_TIMEOUT setting overrides it (see timeout()).
TIMEOUT = (5, 60)
ENVIRONMENT_HOSTS = {"sandbox": plaid.Environment.Sandbox, "production": plaid.Environment.Production}
# What plaid-python raises for responses it cannot decode: malformed, not transient
# (RecursionError: JSON nested deeper than Python's stack).
MALFORMED_RESPONSE_ERRORS = (TypeError, plaid.ApiValueError, plaid.ApiTypeError, plaid.ApiAttributeError,
                             ValueError, RecursionError)


def build_client(config):
    """A plaid_api.PlaidApi for the given app config."""
    host = config.get("PLAID_HOST") or ENVIRONMENT_HOSTS.get(config["PLAID_ENV"])
    if not host:
        raise RuntimeError(f"no Plaid host for PLAID_ENV={config['PLAID_ENV']!r}; set PLAID_HOST")
    configuration = plaid.Configuration(host=host, api_key={
        "clientId": config["PLAID_CLIENT_ID"], "secret": config["PLAID_SECRET"],
        "plaidVersion": "2020-09-14"})
    return plaid_api.PlaidApi(plaid.ApiClient(configuration))


def get_client():
    """The current app's Plaid client (tests may put their own in app.extensions["plaid"])."""
    client = current_app.extensions.get("plaid")
    if client is None:
        client = current_app.extensions["plaid"] = build_client(current_app.config)
    return client


def timeout():
    """The (connect, read) timeout for every Plaid call: plaid-python has none by default (PLAID.md §11.2)."""
    return current_app.config.get("PLAID_TIMEOUT", TIMEOUT)


def plaid_error(exc):
    """(error_code, error_type, message) of a plaid.ApiException; codes are None if the body is not JSON."""
    try:
        body = json.loads(exc.body or "{}")
    except (TypeError, ValueError, RecursionError):
        return None, None, f"HTTP {exc.status} with a non-JSON body"
    if not isinstance(body, dict):
        return None, None, f"HTTP {exc.status}"
    # Plaid's text, stored on the run and the item: cleaned here, at the boundary.
    code, error_type = (clean_line(str(body[key]), 100) if body.get(key) is not None else None
                        for key in ("error_code", "error_type"))
    return code, error_type, clean_text(body.get("error_message"), 2000) or f"HTTP {exc.status}"


def is_network_error(exc):
    """Timeouts and connection failures come from urllib3, not as ApiException."""
    return isinstance(exc, urllib3.exceptions.HTTPError)
