"""Request parsing, authentication and JSON responses shared by the Plaid endpoints."""
import functools
import hmac
import json
import logging

from flask import Response, current_app, request

from . import ids
from .errors import PlaidAPIError, invalid_field

log = logging.getLogger(__name__)
_MISSING = object()


def emulator():
    """Return the Emulator bound to the current app."""
    return current_app.extensions["plaid_local"]


def json_response(body, status: int = 200, headers: dict | None = None) -> Response:
    """Return a JSON response from a dict or pre-serialised bytes."""
    data = body if isinstance(body, (bytes, str)) else json.dumps(body, separators=(",", ":"))
    return Response(data, status=status, headers=headers, mimetype="application/json")


def error_response(exc: PlaidAPIError) -> Response:
    """Render a PlaidAPIError as Plaid does."""
    return json_response(exc.body(), exc.status, exc.headers)


def _parse_body() -> dict:
    raw = request.get_data()
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise PlaidAPIError("INVALID_BODY") from None
    if not isinstance(body, dict):
        raise PlaidAPIError("INVALID_BODY")
    return body


def _authenticate(body: dict) -> None:
    config = current_app.config
    client_id = request.headers.get("PLAID-CLIENT-ID") or body.get("client_id")
    secret = request.headers.get("PLAID-SECRET") or body.get("secret")
    if not client_id or not secret:
        raise PlaidAPIError("INVALID_API_KEYS", "client_id and secret are required")
    if not (hmac.compare_digest(str(client_id), config["CLIENT_ID"])
            and hmac.compare_digest(str(secret), config["SECRET"])):
        raise PlaidAPIError("INVALID_API_KEYS")


def plaid_endpoint(blueprint, path: str):
    """Register `view(body) -> dict | bytes` as a Plaid POST endpoint with auth, faults, errors."""
    def decorate(view):
        @functools.wraps(view)
        def handler():
            try:
                body = _parse_body()
                _authenticate(body)
                drop_key = emulator().faults.apply(path)
                result = view(body)
            except PlaidAPIError as exc:
                return error_response(exc)
            except Exception:  # an emulator bug must still look like a Plaid 500 to the client
                log.exception("plaid_local %s failed", path)
                return error_response(PlaidAPIError("INTERNAL_SERVER_ERROR"))
            if isinstance(result, dict):
                result.setdefault("request_id", ids.request_id())
            if drop_key:  # chaos: a response missing a required key
                result = json.loads(result) if isinstance(result, (bytes, str)) else result
                result.pop(drop_key, None)
            return json_response(result)
        blueprint.add_url_rule(path, endpoint=path.strip("/").replace("/", "_"),
                               view_func=handler, methods=["POST"])
        return handler
    return decorate


def missing(*names: str) -> PlaidAPIError:
    """Return the MISSING_FIELDS error for the given field names."""
    return PlaidAPIError("MISSING_FIELDS", "the following required fields are missing: "
                         + ", ".join(names))


def get(body: dict, name: str, kind, *, required: bool = False, default=None,
        nullable: bool = False):
    """Read one field, checking presence and JSON type as Plaid's validator does."""
    value = body.get(name, _MISSING)
    if value is _MISSING:
        if required:
            raise missing(name)
        return default
    if value is None and nullable:
        return None
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (bool not in kinds and isinstance(value, bool)):
        raise invalid_field(f"{name} must be of type {'/'.join(k.__name__ for k in kinds)}")
    if required and isinstance(value, str) and not value:
        raise invalid_field(f"{name} must be a non-empty string")
    return value
