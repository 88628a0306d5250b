"""Applying a run's spooled bank lines to the import rows (inside the caller's transaction).

Added -> insert (skipping what exists; the unique key is the last line of
defence). Modified -> update; a row already triaged keeps its triage, records
the previous values and is flagged for review. Removed -> marked removed,
never deleted; a linked row that the bank removed is flagged for review.
A posted transaction inherits what the admin set on the pending one it replaces.
Each batch is written in a savepoint: a line the database refuses is recorded
invalid (RowWriter.invalid) and the others are written. The ledger is never touched here.
"""
import sqlite3
from dataclasses import dataclass, replace

import psycopg
from sqlalchemy import exc, select, text
from sqlalchemy.dialects import postgresql, sqlite

from hostadmin.banking.decode import invalid_entry
from hostadmin.banking.models import BankAccount
from hostadmin.clock import utcnow
from hostadmin.extensions import db
from hostadmin.imports.models import ImportRow, RowStatus
from hostadmin.text import clean_line

# Values compared to decide whether the bank changed a row, and kept in previous_values.
BANK_FIELDS = ("date", "authorized_date", "amount", "currency", "description", "merchant_name", "pending",
               "bank_account_id")
# Triage state a posted transaction takes over from its pending one.
TRIAGE_FIELDS = ("status", "note", "collective_id", "order_id", "expense_id", "ledger_group_id")


# import_rows columns written by a sync, with their PostgreSQL types for binary COPY.
COPY_TYPES = {
    "import_id": "int4", "host_id": "int4", "bank_account_id": "int4", "source_id": "text", "date": "date",
    "authorized_date": "date", "amount": "int8", "currency": "text", "description": "text",
    "merchant_name": "text", "pending": "bool", "pending_source_id": "text", "raw": "text", "status": "text",
    "note": "text", "collective_id": "int4", "order_id": "int4", "expense_id": "int4",
    "ledger_group_id": "text", "removed_at": "timestamptz", "needs_review": "bool", "review_reason": "text",
    "previous_values": "json", "first_run_id": "int4", "created_at": "timestamptz", "updated_at": "timestamptz",
}
INSERT_COLUMNS = tuple(COPY_TYPES)
# The database refusing one line's values (SQLSTATE classes 22 and 23, or a value the driver cannot
# convert), as opposed to the database being unavailable, which fails the whole run.
LINE_ERRORS = (exc.DataError, exc.IntegrityError, psycopg.DataError, psycopg.IntegrityError, OverflowError)
CHUNK = 2000


@dataclass
class ApplyCounts:
    added: int = 0
    modified: int = 0
    removed: int = 0
    duplicates: int = 0
    skipped_unsynced: int = 0
    skipped_known: int = 0


class RowWriter:
    """Writes one run's lines for one import, within the current transaction."""

    def __init__(self, tx_import, run_id, accounts_by_plaid_id):
        self.tx_import = tx_import
        self.run_id = run_id
        self.accounts = accounts_by_plaid_id  # plaid account_id -> BankAccount
        self.counts = ApplyCounts()
        self.now = utcnow()
        self._postgres = db.session.get_bind().dialect.name == "postgresql"
        self._insert = (postgresql.insert if self._postgres else sqlite.insert)(ImportRow.__table__)
        self._incoming = False  # PostgreSQL: new rows wait in a temp table until flush_new()
        self._incoming_table = False
        # An import with no rows yet (a first sync) cannot hold any of the incoming ids:
        # skip the per-chunk lookups and COPY straight into import_rows.
        self._first_fill = db.session.scalar(
            select(ImportRow.id).where(ImportRow.import_id == tx_import.id).limit(1)) is None
        self._seen = set()  # ids inserted by this run, while first-filling
        self._posted = {}  # pending source_id -> source_id of the posted line that replaces it
        self.invalid = []  # lines the database refused (invalid_entry dicts)
        if not self._postgres:
            _open_sqlite_transaction()

    def upsert(self, lines, modified=False):
        """Insert new lines; treat lines for existing rows as bank-side modifications."""
        lines = [line for line in lines if self._synced(line)]
        if not lines:
            return
        if self._first_fill and not modified:
            fresh = [line for line in lines if line.source_id not in self._seen]
            self.counts.duplicates += len(lines) - len(fresh)
            self._seen.update(line.source_id for line in fresh)
            self._guarded(fresh, lambda batch: self._insert_new(batch, direct=True))
            return
        existing = {row.source_id: row for row in db.session.scalars(
            select(ImportRow).where(ImportRow.import_id == self.tx_import.id,
                                    ImportRow.source_id.in_([line.source_id for line in lines])))}
        new_lines = [line for line in lines if line.source_id not in existing]
        if new_lines and self._postgres:
            self._create_incoming()  # outside the savepoints: rolling one back must not drop it
        self._guarded(new_lines, self._insert_new)
        self._guarded([line for line in lines if line.source_id in existing],
                      lambda batch: self._modify_rows(existing, batch, counted_as_duplicate=not modified))

    def remove(self, pairs):
        """Mark rows removed by the bank; unknown ids are ignored."""
        ids = [source_id for source_id, _ in pairs]
        rows = db.session.scalars(select(ImportRow).where(
            ImportRow.import_id == self.tx_import.id, ImportRow.source_id.in_(ids),
            ImportRow.removed_at.is_(None))).all()
        for row in rows:
            row.removed_at = self.now
            row.updated_at = self.now
            if row.status == RowStatus.LINKED.value:
                row.needs_review = True
                row.review_reason = "Removed by the bank after it was linked"
            self.counts.removed += 1

    # -- internals ----------------------------------------------------------------
    def _synced(self, line):
        account = self.accounts.get(line.plaid_account_id)
        if account is not None and not account.synced:
            self.counts.skipped_unsynced += 1
            return False
        if account is not None and account.history_from is not None and line.date < account.history_from:
            self.counts.skipped_known += 1  # imported through the connection this one replaced
            return False
        return True

    def _row_values(self, line):
        account = self.accounts.get(line.plaid_account_id)
        return {
            "import_id": self.tx_import.id, "host_id": self.tx_import.host_id,
            "bank_account_id": account.id if account else None, "source_id": line.source_id,
            "date": line.date, "authorized_date": line.authorized_date, "amount": line.amount,
            "currency": line.currency, "description": line.description, "merchant_name": line.merchant_name,
            "pending": line.pending, "pending_source_id": line.pending_source_id, "raw": line.raw,
            "status": RowStatus.PENDING.value, "note": None, "collective_id": None, "order_id": None,
            "expense_id": None, "ledger_group_id": None, "removed_at": None, "needs_review": False,
            "review_reason": None, "previous_values": None, "first_run_id": self.run_id,
            "created_at": self.now, "updated_at": self.now,
        }

    def flush_new(self):
        """Move rows COPYed into the temp table into import_rows (PostgreSQL; a no-op elsewhere).

        If import_rows refuses some of them, they move one by one and the refused ones are invalid.
        """
        if not self._incoming:
            return
        columns = ", ".join(INSERT_COLUMNS)
        move = f"INSERT INTO import_rows ({columns}) SELECT {columns} FROM import_rows_incoming"
        conflict = " ON CONFLICT (import_id, source_id) DO NOTHING"
        try:
            with db.session.begin_nested():
                db.session.execute(text(move + conflict))
        except LINE_ERRORS:
            waiting = db.session.execute(text("SELECT source_id, raw FROM import_rows_incoming")).all()
            for source_id, raw in waiting:
                try:
                    with db.session.begin_nested():
                        db.session.execute(text(move + " WHERE source_id = :source_id" + conflict),
                                           {"source_id": source_id})
                except LINE_ERRORS as error:
                    self.counts.added -= 1
                    self.invalid.append(invalid_entry(raw, refusal(error)))
        db.session.execute(text("TRUNCATE import_rows_incoming"))
        self._incoming = False

    def inherit_pending_triage(self):
        """Each posted row this run added takes over what the admin set on the pending row it replaces.

        Status (hold, ignore, link), note and assignment move to the posted row; the pending row,
        which the bank removes, keeps a pointer instead of the link, so it counts nowhere twice.
        """
        pairs = list(self._posted.items())
        self._posted = {}
        for start in range(0, len(pairs), CHUNK):
            chunk = pairs[start:start + CHUNK]
            pending_rows = self._rows_by_source([pending for pending, _ in chunk])
            posted_rows = self._rows_by_source([posted for _, posted in chunk], ImportRow.first_run_id == self.run_id)
            for pending_id, posted_id in chunk:
                pending_row, posted_row = pending_rows.get(pending_id), posted_rows.get(posted_id)
                if pending_row is None or posted_row is None or not _set_by_admin(pending_row):
                    continue
                for name in TRIAGE_FIELDS:
                    setattr(posted_row, name, getattr(pending_row, name))
                pending_row.status = RowStatus.PENDING.value
                pending_row.order_id = pending_row.expense_id = pending_row.ledger_group_id = None
                pending_row.needs_review = False
                pending_row.review_reason = f"Posted as {posted_id}"
                pending_row.updated_at = self.now

    def _rows_by_source(self, source_ids, *conditions):
        return {row.source_id: row for row in db.session.scalars(select(ImportRow).where(
            ImportRow.import_id == self.tx_import.id, ImportRow.source_id.in_(source_ids), *conditions))}

    def _guarded(self, lines, write):
        """write(lines) in a savepoint; if the database refuses a line, write them one at a time
        (each in its own savepoint) and record the refused ones as invalid."""
        if not lines:
            return
        counts = replace(self.counts)
        try:
            with db.session.begin_nested():
                write(lines)
                db.session.flush()
            return
        except LINE_ERRORS:
            self.counts = counts
        for line in lines:
            counts = replace(self.counts)
            try:
                with db.session.begin_nested():
                    write([line])
                    db.session.flush()
            except LINE_ERRORS as error:
                self.counts = counts
                self.invalid.append(invalid_entry(line.raw, refusal(error)))

    def _insert_new(self, lines, direct=False):
        if not lines:
            return
        values = [self._row_values(line) for line in lines]
        if self._postgres:
            self._copy_incoming(values, direct)
        else:
            statement = self._insert.on_conflict_do_nothing(index_elements=["import_id", "source_id"])
            db.session.execute(statement, values)
        self.counts.added += len(values)
        if not self._first_fill:  # a first fill has no earlier pending rows to take over from
            self._posted.update((line.pending_source_id, line.source_id) for line in lines if line.pending_source_id)

    def _copy_incoming(self, values, direct):
        """COPY is several times faster than INSERT for a first sync of tens of thousands of rows.

        Rows go to a temp table first so the unique key decides, with ON CONFLICT
        DO NOTHING, when they move into import_rows. A first fill (`direct`) can
        COPY into import_rows itself: a duplicate there would abort the run.
        """
        connection = db.session.connection().connection.driver_connection
        target = "import_rows" if direct else "import_rows_incoming"
        self._incoming = self._incoming or not direct
        with connection.cursor() as cursor:
            # Binary COPY: no text formatting and parsing of every value on either side.
            with cursor.copy(f"COPY {target} ({', '.join(INSERT_COLUMNS)}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(list(COPY_TYPES.values()))
                for row in values:
                    copy.write_row([row[name] for name in INSERT_COLUMNS])

    def _create_incoming(self):
        if not self._incoming_table:
            db.session.execute(text("CREATE TEMP TABLE IF NOT EXISTS import_rows_incoming "
                                    "(LIKE import_rows INCLUDING DEFAULTS) ON COMMIT DROP"))
            self._incoming_table = True

    def _modify_rows(self, existing, lines, counted_as_duplicate):
        for line in lines:
            self._modify(existing[line.source_id], line, counted_as_duplicate)

    def _modify(self, row, line, counted_as_duplicate):
        new = self._row_values(line)
        changed = {name: new[name] for name in BANK_FIELDS if getattr(row, name) != new[name]}
        if not changed and row.removed_at is None:
            if counted_as_duplicate:
                self.counts.duplicates += 1
            return
        previous = {name: _jsonable(getattr(row, name)) for name in BANK_FIELDS}
        previous["changed_at"] = self.now.isoformat()
        row.previous_values = [*(row.previous_values or []), previous]
        for name, value in changed.items():
            setattr(row, name, value)
        row.pending_source_id = line.pending_source_id
        row.raw = line.raw
        row.removed_at = None
        row.updated_at = self.now
        if row.is_triaged:
            row.needs_review = True
            row.review_reason = "Changed by the bank after triage"
        self.counts.modified += 1


def _set_by_admin(row):
    """True when the admin changed anything on the row: status, note or collective assignment."""
    return row.status != RowStatus.PENDING.value or bool(row.note) or row.collective_id is not None


def refusal(error):
    """The database's reason for refusing a line, in one line."""
    reason = getattr(error, "orig", None) or error
    return "the database refused it: " + clean_line(str(reason).strip().split("\n")[0], 300)


def _open_sqlite_transaction():
    """pysqlite only BEGINs before a DML statement, so a SAVEPOINT issued first would be the outermost
    transaction and its RELEASE would commit; open the transaction first so the run stays atomic."""
    connection = db.session.connection().connection.driver_connection
    if isinstance(connection, sqlite3.Connection) and not connection.in_transaction:
        connection.execute("BEGIN")


def _jsonable(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def account_map(item, page_accounts):
    """Plaid account_id -> BankAccount for the item, following churned account_ids and adding
    accounts Plaid shares that we lack as new (not synced until an admin selects them)."""
    from hostadmin.banking.accounts import follow_churn, match

    accounts = {a.plaid_account_id: a for a in db.session.scalars(
        select(BankAccount).where(BankAccount.item_id == item.id))}
    for plaid_account in page_accounts.values():
        if plaid_account.account_id not in accounts:
            # Only an account Plaid no longer reports under its old id can have churned.
            account = match([a for a in accounts.values() if a.plaid_account_id not in page_accounts],
                            plaid_account)
            if account is not None:
                del accounts[account.plaid_account_id]
                follow_churn(item, account, plaid_account)
            else:
                account = bank_account_from_plaid(item, plaid_account, synced=False)
                db.session.add(account)
            accounts[account.plaid_account_id] = account
    db.session.flush()
    return accounts


def bank_account_from_plaid(item, plaid_account, synced=True):
    """A BankAccount row for a decoded (msgspec) or typed (plaid-python) account."""
    get = plaid_account.get if hasattr(plaid_account, "get") else lambda k: getattr(plaid_account, k, None)
    balances = get("balances")
    bget = balances.get if hasattr(balances, "get") else lambda k: getattr(balances, k, None)
    # Names and codes are the bank's text: cleaned and fitted to their columns (ids are kept as they are).
    return BankAccount(
        host_id=item.host_id, item_id=item.id, plaid_account_id=get("account_id"),
        persistent_account_id=clean_line(get("persistent_account_id"), 200), name=clean_line(get("name"), 200) or "",
        official_name=clean_line(get("official_name"), 300), mask=clean_line(get("mask"), 10),
        type=clean_line(str(get("type")), 30),
        subtype=clean_line(str(get("subtype")), 50) if get("subtype") is not None else None,
        currency=clean_line(bget("iso_currency_code") or bget("unofficial_currency_code"), 10), synced=synced)
