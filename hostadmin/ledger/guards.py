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


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_ledger_changes(state):
    if not (state.is_update or state.is_delete):
        return
    for mapper in state.all_mappers:
        if mapper.class_ is LedgerTransaction:
            raise LedgerImmutableError("ledger rows are never updated or deleted")
