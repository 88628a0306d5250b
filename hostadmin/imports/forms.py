"""Parsing triage input: list filters from the URL, money and dates typed by admins."""
from dataclasses import dataclass, field, fields, replace
from datetime import date

from hostadmin.imports.models import RowStatus
from hostadmin.money import AmountError, major_units, parse_amount
from hostadmin.params import parse_id
from hostadmin.text import clean_line

# Tabs: the four statuses plus two views across them.
TABS = ("PENDING", "ON_HOLD", "IGNORED", "LINKED", "REVIEW", "REMOVED", "ALL")
TAB_LABELS = {"PENDING": "To do", "ON_HOLD": "On hold", "IGNORED": "Ignored", "LINKED": "Linked",
              "REVIEW": "Changed by bank", "REMOVED": "Removed by bank", "ALL": "All"}
SORTS = {"date_desc": "Newest first", "date_asc": "Oldest first",
         "amount_desc": "Largest amount first", "amount_asc": "Smallest amount first"}
NOTE_MAX = 5000


class InputError(ValueError):
    """Admin input that cannot be used; the message says why."""


def parse_date(text):
    """ISO date or None for blank; InputError otherwise."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"“{text}” is not a date (YYYY-MM-DD)") from None


@dataclass(frozen=True)
class Filters:
    """What the rows list shows; round-trips through the URL so links and reloads keep it."""

    status: str = "PENDING"
    account: int | None = None
    statement: int | None = None  # an uploaded statement's import: its rows have no Plaid account
    direction: str = ""          # "", "in", "out"
    date_from: date | None = None
    date_to: date | None = None
    min_amount: int | None = None  # minor units, compared with the absolute amount
    max_amount: int | None = None
    q: str = ""
    sort: str = "date_desc"
    errors: tuple = field(default=(), compare=False)
    currency: str = field(default="USD", compare=False)  # the host's: how min/max are typed and shown

    URL_NAMES = {"status": "status", "account": "account", "direction": "dir", "date_from": "from",
                 "date_to": "to", "min_amount": "min", "max_amount": "max", "q": "q", "sort": "sort"}

    @classmethod
    def from_args(cls, args, currency):
        """Filters from request args (amounts in `currency`); unusable values are dropped and reported in `errors`."""
        values, errors = {}, []
        status = args.get("status", "PENDING").upper()
        values["status"] = status if status in TABS else "PENDING"
        # One "Bank account" choice names a Plaid account ("12") or a statement import ("s7").
        account = (args.get("account") or "").strip()
        if account[:1] == "s":
            values["statement"] = parse_id(account[1:])
        else:
            values["account"] = parse_id(account)
        values["direction"] = args.get("dir", "") if args.get("dir") in ("in", "out") else ""
        for name, key in (("date_from", "from"), ("date_to", "to")):
            try:
                values[name] = parse_date(args.get(key))
            except InputError as error:
                errors.append(str(error))
        for name, key in (("min_amount", "min"), ("max_amount", "max")):
            if (args.get(key) or "").strip():
                try:
                    values[name] = abs(parse_amount(args.get(key), currency))
                except AmountError as error:  # parse_amount bounds it too: "… is too large: …"
                    errors.append(str(error))
        values["q"] = clean_line(args.get("q") or "").strip()[:100]
        values["sort"] = args.get("sort") if args.get("sort") in SORTS else "date_desc"
        return cls(errors=tuple(errors), currency=currency, **values)

    def to_args(self, **changes):
        """URL parameters for these filters (defaults left out), with `changes` applied."""
        current = replace(self, **changes) if changes else self
        args = {}
        for f in fields(self):
            if f.name in ("errors", "currency"):
                continue
            value = getattr(current, f.name)
            if value in (None, "") or value == f.default:
                continue
            if f.name == "statement":
                args["account"] = f"s{value}"
                continue
            if f.name in ("min_amount", "max_amount"):
                value = major_units(value, self.currency)
            args[self.URL_NAMES[f.name]] = value.isoformat() if isinstance(value, date) else str(value)
        return args

    def money_text(self, name):
        """A money filter as the admin typed it ("12.50"), blank if unset."""
        value = getattr(self, name)
        return "" if value is None else major_units(value, self.currency)


ROW_STATUSES = {status.value for status in RowStatus}
