"""What every statement reader shares once lines are read: which are new, and writing them as import rows."""
from collections import Counter

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from hostadmin.extensions import db
from hostadmin.imports.models import ImportRow

_LOOKUP = 5000
_INSERT = 1000


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
    """Insert the new lines as PENDING import rows; returns how many the database really added."""
    insert_into = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    # One cached statement run over batches (SQLAlchemy's insertmanyvalues): RETURNING counts what was
    # really inserted (rowcount is unreliable for multi-row inserts).
    statement = insert_into(ImportRow).on_conflict_do_nothing(
        index_elements=["import_id", "source_id"]).returning(ImportRow.id)
    new = [line for line in lines if line.new]
    added = 0
    for start in range(0, len(new), _INSERT):
        values = [{"import_id": imp.id, "host_id": host.id, "source_id": line.source_id, "date": line.date,
                   "amount": line.amount, "currency": line.currency, "description": line.description[:500],
                   "status": "PENDING", "pending": False, "needs_review": False, "first_run_id": run.id,
                   "statement_line": line.line, "created_at": now, "updated_at": now}
                  for line in new[start:start + _INSERT]]
        added += len(db.session.execute(statement, values).all())
        if progress:
            progress(min(start + _INSERT, len(new)), len(new))
    return added
