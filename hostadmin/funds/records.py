"""What contributions and expenses share: list filters kept in the URL, keyset pages, parties, history."""
from dataclasses import dataclass, field, fields, replace
from datetime import date

from sqlalchemy import func, select, update

from hostadmin.extensions import db
from hostadmin.funds import cleared
from hostadmin.imports.models import ImportRow
from hostadmin.ledger import accounts as ledger_accounts
from hostadmin.ledger.models import Account, AccountKind, LedgerTransaction
from hostadmin.money import AmountError, major_units, parse_amount
from hostadmin.params import parse_id
from hostadmin.text import clean_line

PAGE_SIZE = 50
SEARCH_LIMIT = 10


class RecordError(ValueError):
    """A contribution or expense action refused; nothing was written. The message says why."""


@dataclass(frozen=True)
class Filters:
    """A list's filters; they round-trip through the URL so reloads and shared links keep them."""

    status: str = ""
    collective: int | None = None
    party: str = ""                # contributor or payee name, contains, any case
    min_amount: int | None = None  # minor units
    max_amount: int | None = None
    date_from: date | None = None  # on the effective date: paid (cleared), else recorded
    date_to: date | None = None
    errors: tuple = field(default=(), compare=False)

    URL_NAMES = {"status": "status", "collective": "collective", "party": "party", "min_amount": "min",
                 "max_amount": "max", "date_from": "from", "date_to": "to"}

    @classmethod
    def from_args(cls, args, statuses, currency):
        """Filters from request args; unusable values are dropped and named in `errors`."""
        values, errors = {}, []
        status = clean_line(args.get("status") or "", 20).strip().upper()
        values["status"] = status if status in statuses else ""
        collective = str(args.get("collective") or "").strip()
        values["collective"] = parse_id(collective)
        values["party"] = clean_line(args.get("party") or "", 100).strip()
        for name, key in (("min_amount", "min"), ("max_amount", "max")):
            text = clean_line(args.get(key) or "", 40).strip()
            if text:
                try:
                    values[name] = abs(parse_amount(text, currency))
                except AmountError as error:
                    errors.append(str(error))
        for name, key in (("date_from", "from"), ("date_to", "to")):
            text = clean_line(args.get(key) or "", 40).strip()
            if text:
                try:
                    values[name] = date.fromisoformat(text)
                except ValueError:
                    errors.append(f"“{text}” is not a date (YYYY-MM-DD)")
        return cls(errors=tuple(errors), **values)

    def to_args(self, currency, **changes):
        """URL parameters of these filters (blank ones left out), with `changes` applied."""
        current = replace(self, **changes) if changes else self
        args = {}
        for f in fields(self):
            value = getattr(current, f.name)
            if f.name == "errors" or value in (None, ""):
                continue
            if f.name in ("min_amount", "max_amount"):
                value = major_units(value, currency)
            args[self.URL_NAMES[f.name]] = value.isoformat() if isinstance(value, date) else str(value)
        return args

    def money_text(self, name, currency):
        value = getattr(self, name)
        return "" if value is None else major_units(value, currency)


def filtered(host, model, query, filters, *, collective_column, party_column):
    """`query` narrowed by `filters`; dates are in the host's time zone, the end date inclusive."""
    query = query.where(model.host_id == host.id)
    if filters.status:
        query = query.where(model.status == filters.status)
    if filters.collective:
        query = query.where(collective_column == filters.collective)
    if filters.party:
        party = select(Account.id).where(Account.host_id == host.id,
                                         Account.name.ilike(f"%{_escaped(filters.party)}%", escape="\\"))
        query = query.where(party_column.in_(party))
    if filters.min_amount is not None:
        query = query.where(model.amount >= filters.min_amount)
    if filters.max_amount is not None:
        query = query.where(model.amount <= filters.max_amount)
    effective = func.coalesce(model.paid_at, model.created_at)
    if filters.date_from:
        query = query.where(effective >= cleared.start_of_day(host, filters.date_from))
    if filters.date_to:
        query = query.where(effective < cleared.end_of_day(host, filters.date_to))
    return query


def keyset_page(model, query, after, size=PAGE_SIZE):
    """(objects, next cursor): newest first by id, after the id `after` (never OFFSET)."""
    after = parse_id(after)
    if after is not None:
        query = query.where(model.id < after)
    found = db.session.scalars(query.order_by(model.id.desc()).limit(size + 1)).all()
    return found[:size], (found[size - 1].id if len(found) > size else None)


def search_parties(host, kind, text, limit=SEARCH_LIMIT):
    """The host's contributors or payees whose name contains `text` (any case), names starting with it first."""
    text = clean_line(text or "", 200).strip()
    if not text:
        return []
    name = func.lower(Account.name)
    return db.session.scalars(
        select(Account).where(Account.host_id == host.id, Account.kind == AccountKind(kind).value,
                              Account.name.ilike(f"%{_escaped(text)}%", escape="\\"))
        .order_by((~name.startswith(text.lower(), autoescape=True)), name, Account.id).limit(limit)).all()


def party_named(host, kind, name):
    """The host's contributor or payee called `name` (case-insensitively), or None."""
    name = clean_line(name or "", 200)
    return db.session.scalar(select(Account).where(
        Account.host_id == host.id, Account.kind == AccountKind(kind).value,
        func.lower(Account.name) == name.strip().lower()).order_by(Account.id))


def party(host, kind, name, *, field_name):
    """The contributor or payee called `name`, created if new (inline, from the picker)."""
    name = clean_line(name or "", 200).strip()
    if not name:
        raise ledger_accounts.ValidationError(f"name the {field_name}", field_name)
    return party_named(host, kind, name) or ledger_accounts.create_account(host, kind, name)


def collective_of(host, collective):
    """`collective` if it is one of the host's collectives; refuses anything else."""
    if (collective is None or collective.host_id != host.id
            or collective.kind != AccountKind.COLLECTIVE.value):
        raise ledger_accounts.ValidationError("choose one of the host's collectives", "collective")
    return collective


def ledger_groups(host, column, object_id):
    """The ledger rows of an order or expense, by group (oldest group first): [(group_id, rows)]."""
    rows = db.session.scalars(select(LedgerTransaction).where(
        LedgerTransaction.host_id == host.id, column == object_id).order_by(LedgerTransaction.id)).all()
    groups = {}
    for row in rows:
        groups.setdefault(row.group_id, []).append(row)
    return list(groups.items())


def bank_lines(host, column, object_id):
    """Bank lines (import rows) linked to an order or expense."""
    return db.session.scalars(select(ImportRow).where(ImportRow.host_id == host.id, column == object_id)
                              .order_by(ImportRow.id)).all()


def claim(model, host, object_id, what, allowed):
    """The host's `model` #object_id, locked for this transaction while its status is in `allowed`.

    A conditional UPDATE comes first: on PostgreSQL it locks the row, on SQLite it takes the write
    lock before anything is read (SELECT … FOR UPDATE locks nothing there), so two sessions acting on
    the same object act one after the other, and the second sees the first one's status.
    Returns (object, claimed); claimed is False when the status is not in `allowed`.
    """
    result = db.session.execute(
        update(model).where(model.id == object_id, model.host_id == host.id, model.status.in_(allowed))
        .values(status=model.status).execution_options(synchronize_session=False))
    obj = db.session.scalars(select(model).where(model.id == object_id, model.host_id == host.id)
                             .with_for_update().execution_options(populate_existing=True)).first()
    if obj is None:
        raise RecordError(f"there is no {what} #{object_id} on host {host.slug}")
    return obj, result.rowcount == 1 and obj.status in allowed


def _escaped(text):
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
