"""Ledger exports: the host's ledger rows for a date range, one line per row, streamed (flat memory).

Rows come through a streamed cursor (a server-side cursor on PostgreSQL, SQLite's own stepping), so the
export never holds a period in memory. Amounts are signed (credit positive) exact decimals in major units,
so each group's lines sum to zero; dates are ISO dates in the host's time zone.
"""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Numeric, Text, and_, case, cast, func, literal, or_, select
from sqlalchemy.orm import aliased

from hostadmin.auth.models import User
from hostadmin.extensions import db
from hostadmin.funds import cleared
from hostadmin.imports.models import ImportRow
from hostadmin.ledger.models import Account, LedgerTransaction
from hostadmin.money import major_units, minor_digits

DEFAULT_COLUMNS = ("effective_date", "recorded_date", "kind", "type", "account", "counterparty", "amount",
                   "currency", "group_id", "corrects_group_id", "description")
ALL_COLUMNS = DEFAULT_COLUMNS + ("created_by", "bank_source_id", "bank_description")
BY = ("effective", "recorded")
BATCH = 2000


class ExportError(ValueError):
    """An export request the rules refuse; the message says why."""


@dataclass(frozen=True)
class LedgerRange:
    """Which rows: from and to are inclusive dates in the host's time zone, by effective or recorded date."""

    start: date
    end: date
    by: str = "effective"
    columns: tuple = DEFAULT_COLUMNS

    def __post_init__(self):
        if self.by not in BY:
            raise ExportError(f"--by must be effective or recorded, not {self.by!r}")
        if self.end < self.start:
            raise ExportError(f"the range ends ({self.end}) before it starts ({self.start})")
        unknown = [column for column in self.columns if column not in ALL_COLUMNS]
        if unknown or not self.columns:
            raise ExportError(f"unknown columns: {', '.join(unknown) or 'none chosen'}")


def _query(host, wanted):
    row = LedgerTransaction
    account, counterparty, original = aliased(Account), aliased(Account), aliased(LedgerTransaction)
    effective = func.coalesce(row.cleared_at, row.created_at)
    start, end = cleared.start_of_day(host, wanted.start), cleared.end_of_day(host, wanted.end)
    moment = effective if wanted.by == "effective" else row.created_at
    bank = (select(ImportRow.source_id, ImportRow.description)
            .where(or_(ImportRow.order_id == row.order_id, ImportRow.expense_id == row.expense_id))
            .order_by(ImportRow.id).limit(1))
    return (select(effective.label("effective"), row.created_at, row.kind, row.type, account.slug,
                   counterparty.slug, row.amount, row.currency, row.group_id, original.group_id,
                   row.description, User.email,
                   bank.with_only_columns(ImportRow.source_id).scalar_subquery(),
                   bank.with_only_columns(ImportRow.description).scalar_subquery(), row.id.label("row_id"),
                   moment.label("moment"))
            .join(account, account.id == row.account_id)
            .join(counterparty, counterparty.id == row.counterparty_id)
            .outerjoin(original, original.id == row.refund_of_id)
            .outerjoin(User, User.id == row.created_by_id)
            .where(row.host_id == host.id, moment >= start, moment < end)
            .order_by(moment, row.id))


def write(host, wanted, fmt, path, on_row=None):
    """Write the export to `path` (atomically); return (rows, size). CSV on PostgreSQL goes through COPY."""
    from hostadmin.reports import files
    if fmt == "csv" and db.session.get_bind().dialect.name == "postgresql":
        total = count_rows(host, wanted)
        size = files.write_chunks(path, copy_chunks(host, wanted, total, on_row))
        return total, size
    return files.write_to(path, fmt, rows(host, wanted), on_row)


def copy_chunks(host, wanted, total=None, on_row=None):
    """The CSV as PostgreSQL writes it with COPY (SELECT …) TO STDOUT: the same cells as rows(), made in SQL."""
    from psycopg import sql
    query = _copy_select(host, wanted)
    compiled = query.compile(dialect=db.session.get_bind().dialect, compile_kwargs={"literal_binds": True})
    statement = sql.SQL("COPY ({}) TO STDOUT WITH (FORMAT csv, HEADER true, ENCODING 'UTF8')").format(
        sql.SQL(str(compiled)))
    cursor = db.session.connection().connection.driver_connection.cursor()
    lines = 0
    with cursor.copy(statement) as copy:
        for chunk in copy:
            chunk = bytes(chunk)
            if on_row and total:
                lines += chunk.count(b"\n")
                on_row(min(lines, total))
            yield chunk


def _safe_sql(expression):
    """csvsafe's rule in SQL: text a spreadsheet would run as a formula gets a leading apostrophe."""
    text = func.coalesce(expression, "")
    return case((and_(text.regexp_match("^[=+\\-@\t\r]"), ~text.regexp_match("^-?[0-9]+(\\.[0-9]+)?$")),
                 literal("'") + text), else_=text)


def _copy_select(host, wanted):
    zone = host.timezone or "UTC"
    digits = minor_digits(host.currency)
    inner = _query(host, wanted).subquery()
    (effective, recorded, kind, type_, account, counterparty, amount, currency, group_id, corrects,
     description, created_by, bank_id, bank_description, row_id, moment) = inner.c

    def day(column):
        return func.to_char(func.timezone(zone, column), "YYYY-MM-DD")
    decimal = (func.round(cast(amount, Numeric) / (10 ** digits), digits) if digits
               else cast(amount, Numeric))
    cells = {
        "effective_date": day(effective), "recorded_date": day(recorded), "kind": _safe_sql(kind),
        "type": _safe_sql(type_), "account": _safe_sql(account), "counterparty": _safe_sql(counterparty),
        "amount": cast(decimal, Text), "currency": _safe_sql(currency), "group_id": _safe_sql(group_id),
        "corrects_group_id": _safe_sql(corrects), "description": _safe_sql(description),
        "created_by": _safe_sql(created_by), "bank_source_id": _safe_sql(bank_id),
        "bank_description": _safe_sql(bank_description),
    }
    return (select(*(cells[column].label(column) for column in wanted.columns)).select_from(inner)
            .order_by(moment, row_id))


def count_rows(host, wanted):
    """How many rows the export will have (for its progress)."""
    row = LedgerTransaction
    moment = func.coalesce(row.cleared_at, row.created_at) if wanted.by == "effective" else row.created_at
    return db.session.scalar(select(func.count()).where(
        row.host_id == host.id, moment >= cleared.start_of_day(host, wanted.start),
        moment < cleared.end_of_day(host, wanted.end)))


def rows(host, wanted):
    """The header, then one tuple per ledger row (the chosen columns), streamed in batches."""
    zone = cleared.zone_of(host)
    yield tuple(wanted.columns)
    result = db.session.execute(_query(host, wanted).execution_options(yield_per=BATCH, stream_results=True))
    for (effective, recorded, kind, type_, account, counterparty, amount, currency, group_id, corrects,
         description, created_by, bank_id, bank_description, *_) in result:
        values = {
            "effective_date": effective.astimezone(zone).date().isoformat(),
            "recorded_date": recorded.astimezone(zone).date().isoformat(),
            "kind": kind, "type": type_, "account": account, "counterparty": counterparty,
            "amount": major_units(amount, currency), "currency": currency, "group_id": group_id,
            "corrects_group_id": corrects or "", "description": description or "",
            "created_by": created_by or "", "bank_source_id": bank_id or "",
            "bank_description": bank_description or "",
        }
        yield tuple(values[column] for column in wanted.columns)
