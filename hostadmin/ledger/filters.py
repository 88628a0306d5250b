"""Ledger list filters: parsed from the URL (anything typed is tolerated), written back to it."""
from dataclasses import dataclass, field, fields, replace
from datetime import date

from hostadmin.ledger.models import EntryType, LedgerKind
from hostadmin.money import AmountError, major_units, parse_amount
from hostadmin.params import parse_id
from hostadmin.text import clean_line

KINDS = tuple(kind.value for kind in LedgerKind)
TYPES = tuple(entry.value for entry in EntryType)
DATE_PARAMS = {"effective_from": "from", "effective_to": "to",
               "recorded_from": "recorded_from", "recorded_to": "recorded_to"}
URL_NAMES = {**DATE_PARAMS, "kind": "kind", "type": "type", "collective": "collective",
             "min_amount": "min", "max_amount": "max", "q": "q", "hide_corrections": "hide_corrections"}


@dataclass(frozen=True)
class LedgerFilters:
    """What a ledger list shows. Dates are days in the host's time zone, both ends inclusive."""

    effective_from: date | None = None
    effective_to: date | None = None
    recorded_from: date | None = None
    recorded_to: date | None = None
    kind: str = ""
    type: str = ""                   # "", "CREDIT", "DEBIT"
    collective: int | None = None    # account id (the host's ledger only)
    min_amount: int | None = None    # minor units, compared with the amount's magnitude
    max_amount: int | None = None
    q: str = ""
    hide_corrections: bool = False
    currency: str = field(default="USD", compare=False)
    errors: tuple = field(default=(), compare=False)

    @classmethod
    def from_args(cls, args, currency):
        """Filters from request args; unusable values are dropped and named in `errors`."""
        values, errors = {"currency": currency}, []
        for name, key in DATE_PARAMS.items():
            text = clean_line(args.get(key) or "", 40).strip()
            if text:
                try:
                    values[name] = date.fromisoformat(text)
                except ValueError:
                    errors.append(f"“{text}” is not a date (YYYY-MM-DD)")
        kind = (args.get("kind") or "").strip().upper()
        values["kind"] = kind if kind in KINDS else ""
        entry = (args.get("type") or "").strip().upper()
        values["type"] = entry if entry in TYPES else ""
        values["collective"] = parse_id(args.get("collective"))
        for name, key in (("min_amount", "min"), ("max_amount", "max")):
            text = clean_line(args.get(key) or "", 40).strip()
            if text:
                try:
                    values[name] = abs(parse_amount(text, currency))
                except AmountError as error:
                    errors.append(str(error))
        values["q"] = clean_line(args.get("q") or "", 100).strip()
        values["hide_corrections"] = (args.get("hide_corrections") or "") in ("1", "on", "true")
        return cls(errors=tuple(errors), **values)

    def to_args(self, **changes):
        """URL parameters for these filters (defaults left out), with `changes` applied."""
        current = replace(self, **changes) if changes else self
        args = {}
        for f in fields(self):
            if f.name not in URL_NAMES:
                continue
            value = getattr(current, f.name)
            if value in (None, "", False):
                continue
            if f.name in ("min_amount", "max_amount"):
                value = major_units(value, self.currency)
            elif value is True:
                value = "1"
            args[URL_NAMES[f.name]] = value.isoformat() if isinstance(value, date) else str(value)
        return args

    def money_text(self, name):
        """A money filter as typed ("12.50"), blank if unset."""
        value = getattr(self, name)
        return "" if value is None else major_units(value, self.currency)

    @property
    def active(self):
        """True when any filter narrows the list."""
        return bool(self.to_args())
