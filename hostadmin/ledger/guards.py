"""The ORM half of ledger immutability: no UPDATE or DELETE of a ledger row, ever.

PostgreSQL enforces the same with a trigger (see the initial migration); this
guard covers every database, including bulk query.update()/delete().
"""
from sqlalchemy import event
from sqlalchemy.orm import Session

from hostadmin.ledger.models import LedgerTransaction


class LedgerImmutableError(RuntimeError):
    """Raised when code tries to change or delete a ledger row."""


@event.listens_for(Session, "before_flush")
def _refuse_ledger_changes(session, flush_context, instances):
    for obj in session.deleted:
        if isinstance(obj, LedgerTransaction):
            raise LedgerImmutableError("ledger rows are never deleted; record a reversal instead")
    for obj in session.dirty:
        if isinstance(obj, LedgerTransaction) and session.is_modified(obj, include_collections=False):
            raise LedgerImmutableError("ledger rows are never updated; record a reversal instead")


# The one exception, for `flask ledger backfill-cleared-at` only (hostadmin.ledger.backfill): an UPDATE
# carrying this execution option that sets nothing but cleared_at (the PostgreSQL trigger then checks
# that it goes from NULL to a value and that no other column changes).
BACKFILL_OPTION = "ledger_cleared_at_backfill"


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_ledger_changes(state):
    if not (state.is_update or state.is_delete):
        return
    # A Core update(table) has no mapper: look at the statement's table as well.
    on_ledger = getattr(state.statement, "table", None) is LedgerTransaction.__table__ or any(
        mapper.class_ is LedgerTransaction for mapper in state.all_mappers)
    if not on_ledger:
        return
    if state.is_update and state.execution_options.get(BACKFILL_OPTION) and _sets_only_cleared_at(state.statement):
        return
    raise LedgerImmutableError("ledger rows are never updated or deleted")


def _sets_only_cleared_at(statement):
    values = getattr(statement, "_values", None) or {}
    return not getattr(statement, "_ordered_values", None) and \
        {getattr(column, "key", column) for column in values} == {"cleared_at"}
