"""What every statement reader shares once lines are read: which are new, and writing them as import rows."""
from collections import Counter

from sqlalchemy import select, text
from sqlalchemy.dialects import sqlite

from hostadmin.extensions import db
from hostadmin.imports.models import ImportRow

_LOOKUP = 5000
_INSERT = 1000
_COPY = 10_000
# import_rows columns a statement line fills, with their PostgreSQL types for binary COPY.
_COPY_TYPES = {"import_id": "int4", "host_id": "int4", "source_id": "text", "date": "date", "amount": "int8",
               "currency": "text", "description": "text", "status": "text", "pending": "bool",
               "needs_review": "bool", "first_run_id": "int4", "statement_line": "int4",
               "created_at": "timestamptz", "updated_at": "timestamptz"}


def mark_new(imp, lines, invalid):
    """Mark each line new or already imported; a bank id repeated in the file makes its new lines invalid.

    Returns the lines that may be imported (new ones with a unique id, and every already imported one).
    """
    ids = [line.source_id for line in lines]
    existing = set()
    for start in range(0, len(ids), _LOOKUP):
        existing |= set(db.session.scalars(select(ImportRow.source_id).where(
            ImportRow.import_id == imp.id, ImportRow.source_id.in_(ids[start:start + _LOOKUP]))))
    in_file = Counter(ids)
    kept = []
    for line in lines:
        line.new = line.source_id not in existing
        if in_file[line.source_id] > 1 and line.new:
            invalid.append({"line": line.line, "error": "the reference appears more than once"})
        else:
            kept.append(line)
    invalid.sort(key=lambda item: item["line"])
    return kept


def insert(host, imp, run, lines, now, progress=None):
    """Insert the new lines as PENDING import rows; returns how many the database really added.

    `progress(done, total)` is called after each batch. PostgreSQL takes the lines by binary COPY into a
    temp table and moves them with one INSERT … SELECT … ON CONFLICT DO NOTHING (several times faster than
    INSERT batches); SQLite takes INSERT batches.
    """
    new = [line for line in lines if line.new]
    values = ({"import_id": imp.id, "host_id": host.id, "source_id": line.source_id, "date": line.date,
               "amount": line.amount, "currency": line.currency, "description": line.description[:500],
               "status": "PENDING", "pending": False, "needs_review": False, "first_run_id": run.id,
               "statement_line": line.line, "created_at": now, "updated_at": now} for line in new)
    if db.engine.dialect.name == "postgresql":
        return _copy_insert(values, len(new), progress)
    return _batch_insert(values, len(new), progress)


def _batch_insert(values, total, progress):
    # One cached statement run over batches (SQLAlchemy's insertmanyvalues): RETURNING counts what was
    # really inserted (rowcount is unreliable for multi-row inserts).
    statement = sqlite.insert(ImportRow).on_conflict_do_nothing(
        index_elements=["import_id", "source_id"]).returning(ImportRow.id)
    rows, added = list(values), 0
    for start in range(0, total, _INSERT):
        added += len(db.session.execute(statement, rows[start:start + _INSERT]).all())
        if progress:
            progress(min(start + _INSERT, total), total)
    return added


def _copy_insert(values, total, progress):
    columns = ", ".join(_COPY_TYPES)
    # Only the columns a statement fills: a copy of import_rows' defaults would draw ids from its sequence.
    db.session.execute(text(f"CREATE TEMP TABLE IF NOT EXISTS statement_rows_incoming ON COMMIT DROP AS "
                            f"SELECT {columns} FROM import_rows WITH NO DATA"))
    db.session.execute(text("TRUNCATE statement_rows_incoming"))  # a second upload in the same transaction
    connection = db.session.connection().connection.driver_connection
    done = 0
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY statement_rows_incoming ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(list(_COPY_TYPES.values()))
            for row in values:
                copy.write_row([row[name] for name in _COPY_TYPES])
                done += 1
                if progress and done % _COPY == 0:
                    progress(done, total)
    added = db.session.execute(text(
        f"WITH moved AS (INSERT INTO import_rows ({columns}) SELECT {columns} FROM statement_rows_incoming "
        f"ON CONFLICT (import_id, source_id) DO NOTHING RETURNING 1) SELECT count(*) FROM moved")).scalar_one()
    if progress:
        progress(total, total)
    return added
