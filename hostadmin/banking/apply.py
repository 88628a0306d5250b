"""Applying a run's spooled bank lines to the import rows (inside the caller's transaction).

Added -> insert (skipping what exists; the unique key is the last line of
defence). Modified -> update; a row already triaged keeps its triage, records
the previous values and is flagged for review. Removed -> marked removed,
never deleted; a linked row that the bank removed is flagged for review.
A posted transaction inherits the triage of the pending one it replaces.
The ledger is never touched here.
"""
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql, sqlite

from hostadmin.banking.models import BankAccount
from hostadmin.clock import utcnow
from hostadmin.extensions import db
from hostadmin.imports.models import ImportRow, RowStatus

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


@dataclass
class ApplyCounts:
    added: int = 0
    modified: int = 0
    removed: int = 0
    duplicates: int = 0
    skipped_unsynced: int = 0


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
        # An import with no rows yet (a first sync) cannot hold any of the incoming ids:
        # skip the per-chunk lookups and COPY straight into import_rows.
        self._first_fill = db.session.scalar(
            select(ImportRow.id).where(ImportRow.import_id == tx_import.id).limit(1)) is None
        self._seen = set()  # ids inserted by this run, while first-filling

    def upsert(self, lines, modified=False):
        """Insert new lines; treat lines for existing rows as bank-side modifications."""
        lines = [line for line in lines if self._synced(line)]
        if not lines:
            return
        if self._first_fill and not modified:
            fresh = [line for line in lines if line.source_id not in self._seen]
            self.counts.duplicates += len(lines) - len(fresh)
            self._seen.update(line.source_id for line in fresh)
            self._insert_new(fresh, direct=True)
            return
        existing = {row.source_id: row for row in db.session.scalars(
            select(ImportRow).where(ImportRow.import_id == self.tx_import.id,
                                    ImportRow.source_id.in_([line.source_id for line in lines])))}
        new_lines = [line for line in lines if line.source_id not in existing]
        self._insert_new(new_lines)
        for line in lines:
            row = existing.get(line.source_id)
            if row is not None:
                self._modify(row, line, counted_as_duplicate=not modified)

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
        """Move rows COPYed into the temp table into import_rows (PostgreSQL; a no-op elsewhere)."""
        if not self._incoming:
            return
        columns = ", ".join(INSERT_COLUMNS)
        db.session.execute(text(
            f"INSERT INTO import_rows ({columns}) SELECT {columns} FROM import_rows_incoming "
            "ON CONFLICT (import_id, source_id) DO NOTHING"))
        db.session.execute(text("TRUNCATE import_rows_incoming"))
        self._incoming = False

    def _insert_new(self, lines, direct=False):
        if not lines:
            return
        values = [self._row_values(line) for line in lines]
        self._inherit_pending_triage(values)
        if self._postgres:
            self._copy_incoming(values, direct)
        else:
            statement = self._insert.on_conflict_do_nothing(index_elements=["import_id", "source_id"])
            db.session.execute(statement, values)
        self.counts.added += len(values)

    def _copy_incoming(self, values, direct):
        """COPY is several times faster than INSERT for a first sync of tens of thousands of rows.

        Rows go to a temp table first so the unique key decides, with ON CONFLICT
        DO NOTHING, when they move into import_rows. A first fill (`direct`) can
        COPY into import_rows itself: a duplicate there would abort the run.
        """
        connection = db.session.connection().connection.driver_connection
        target = "import_rows"
        with connection.cursor() as cursor:
            if not direct:
                target = "import_rows_incoming"
                if not self._incoming:
                    cursor.execute("CREATE TEMP TABLE IF NOT EXISTS import_rows_incoming "
                                   "(LIKE import_rows INCLUDING DEFAULTS) ON COMMIT DROP")
                    self._incoming = True
            # Binary COPY: no text formatting and parsing of every value on either side.
            with cursor.copy(f"COPY {target} ({', '.join(INSERT_COLUMNS)}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(list(COPY_TYPES.values()))
                for row in values:
                    copy.write_row([row[name] for name in INSERT_COLUMNS])

    def _inherit_pending_triage(self, values):
        """A posted row takes over the triage (status, note, links) of the pending row it replaces."""
        wanted = {v["pending_source_id"]: v for v in values if v["pending_source_id"]}
        if not wanted:
            return
        pending_rows = db.session.scalars(select(ImportRow).where(
            ImportRow.import_id == self.tx_import.id, ImportRow.source_id.in_(list(wanted)))).all()
        for pending_row in pending_rows:
            if not pending_row.is_triaged:
                continue
            posted = wanted[pending_row.source_id]
            for name in TRIAGE_FIELDS:
                posted[name] = getattr(pending_row, name)
            # The link moves with the money: the pending row keeps a pointer, not the link.
            pending_row.status = RowStatus.PENDING.value
            pending_row.order_id = pending_row.expense_id = pending_row.ledger_group_id = None
            pending_row.review_reason = f"Posted as {posted['source_id']}"
            pending_row.updated_at = self.now

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


def _jsonable(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def account_map(item, page_accounts):
    """Plaid account_id -> BankAccount for the item, adding accounts Plaid shares that we lack."""
    accounts = {a.plaid_account_id: a for a in db.session.scalars(
        select(BankAccount).where(BankAccount.item_id == item.id))}
    for plaid_account in page_accounts.values():
        if plaid_account.account_id not in accounts:
            account = bank_account_from_plaid(item, plaid_account)
            db.session.add(account)
            accounts[account.plaid_account_id] = account
    db.session.flush()
    return accounts


def bank_account_from_plaid(item, plaid_account, synced=True):
    """A BankAccount row for a decoded (msgspec) or typed (plaid-python) account."""
    get = plaid_account.get if hasattr(plaid_account, "get") else lambda k: getattr(plaid_account, k, None)
    balances = get("balances")
    bget = balances.get if hasattr(balances, "get") else lambda k: getattr(balances, k, None)
    return BankAccount(
        host_id=item.host_id, item_id=item.id, plaid_account_id=get("account_id"),
        persistent_account_id=get("persistent_account_id"), name=get("name"),
        official_name=get("official_name"), mask=get("mask"), type=str(get("type")),
        subtype=str(get("subtype")) if get("subtype") is not None else None,
        currency=bget("iso_currency_code") or bget("unofficial_currency_code"), synced=synced)
