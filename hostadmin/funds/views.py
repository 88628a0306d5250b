"""Helpers the contributions and expenses pages share: loading, fragments, form errors from refusals."""
from flask import abort, g, request

from hostadmin.extensions import db
from hostadmin.funds import cleared
from hostadmin.funds.forms import FormError, minor_units
from hostadmin.ledger.service import LedgerError

MAX_ID = 2**31 - 1


def wants_fragment():
    """True for an htmx request that swaps part of the page (not a history restore)."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def load_or_404(model, object_id):
    """The host's `model` #object_id, or 404 (ids beyond the column's range included)."""
    obj = db.session.get(model, object_id) if 0 < object_id <= MAX_ID else None
    if obj is None or obj.host_id != g.host.id:
        abort(404)
    return obj


def sentence(message):
    """"october is closed" -> "October is closed." for a field error."""
    message = str(message).strip()
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def amount_of(form):
    """The form's amount in minor units (CLDR decimals of the host currency); FormError otherwise."""
    amount = minor_units(form.amount.data, g.host.currency, "amount")
    if amount <= 0:
        raise FormError("The amount must be more than zero.", "amount")
    return amount


def cleared_at_of(form):
    """The cleared_at of the form's cleared_on date (not in the future, not in a closed month)."""
    try:
        return cleared.cleared_at_for_day(g.host, form.cleared_on.data)
    except LedgerError as error:
        raise FormError(sentence(error), "cleared_on") from None


def show_error(form, error, fields, default):
    """Put a refusal on the form field it is about (ValidationError.field, a date rule, else `default`)."""
    cause = error.__cause__ if error.__cause__ is not None else error
    field = getattr(error, "field", None) or getattr(cause, "field", None)
    if field not in fields:
        field = "cleared_on" if isinstance(cause, cleared.ClearedDateError) and "cleared_on" in fields else default
    getattr(form, field).errors.append(sentence(error))
