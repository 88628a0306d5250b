"""Bulk actions on a selection or on every row matching a filter: one database transaction each."""
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select, update

from hostadmin.audit import service as audit
from hostadmin.clock import utcnow
from hostadmin.extensions import db
from hostadmin.imports import queries
from hostadmin.imports.models import ImportRow
from hostadmin.imports.service import IGNORED, LINKED, ON_HOLD, PENDING, TriageError
from hostadmin.ledger.models import AccountKind

CHUNK = 5000  # bound parameters per statement: well under SQLite's and PostgreSQL's limits
ACTIONS = {"ignore": (IGNORED, {PENDING, ON_HOLD}), "hold": (ON_HOLD, {PENDING, IGNORED}),
           "restore": (PENDING, {IGNORED, ON_HOLD}), "assign": (None, {PENDING, ON_HOLD, IGNORED})}
PAST = {"ignore": "ignored", "hold": "put on hold", "restore": "restored", "assign": "assigned"}
LABELS = {"ignore": "Ignore", "hold": "Hold", "restore": "Restore", "assign": "Assign"}
ALREADY = {IGNORED: "already ignored", ON_HOLD: "already on hold", PENDING: "already to do"}


def effect(action, collective=None):
    """What `action` will do to the rows, in words (for the confirmation)."""
    return {"ignore": "move to Ignored", "hold": "be put on hold", "restore": "go back to To do",
            "assign": f"be assigned to {collective.name}" if collective else "be assigned to a collective"}[action]


@dataclass
class BulkResult:
    action: str
    done: int = 0
    skipped: dict = field(default_factory=dict)  # reason -> count
    row_ids: list = field(default_factory=list)

    @property
    def message(self):
        """ "214 rows ignored, 3 skipped because linked" """
        text = f"{self.done:,} row{'s' if self.done != 1 else ''} {PAST[self.action]}"
        for reason, number in sorted(self.skipped.items()):
            text += f", {number:,} skipped because {reason}"
        return text


def bulk_apply(host, user, action, *, row_ids=None, filters=None, import_id=None, collective=None):
    """Apply `action` to the chosen rows (ids, or all rows matching `filters`); commit once."""
    if action not in ACTIONS:
        raise TriageError(f"Unknown bulk action {action!r}.")
    if action == "assign" and (collective is None or collective.host_id != host.id
                               or collective.kind != AccountKind.COLLECTIVE.value):
        raise TriageError("Choose the collective to assign the rows to.")
    if row_ids is None:
        row_ids = queries.matching_ids(host, filters, import_id)
    target, allowed = ACTIONS[action]
    result = BulkResult(action)
    previous = _eligible(host, action, sorted(set(row_ids)), result)
    values = {"collective_id": collective.id} if action == "assign" else {"status": target}
    now = utcnow()
    changed = defaultdict(list)
    for key, ids in previous.items():
        # The UPDATE repeats what was read as its condition, and only what it RETURNS counts: a row
        # linked or changed meanwhile (on SQLite nothing was locked by the read) stays untouched.
        if action == "assign":
            condition = [ImportRow.status.in_(allowed),
                         ImportRow.collective_id == int(key) if key else ImportRow.collective_id.is_(None)]
        else:
            condition = [ImportRow.status == key]
        for chunk in _chunks(ids):
            changed[key] += db.session.scalars(
                update(ImportRow).where(ImportRow.id.in_(chunk), ImportRow.removed_at.is_(None), *condition)
                .values(**values, updated_at=now, version=ImportRow.version + 1).returning(ImportRow.id)
                .execution_options(synchronize_session=False)).all()
    missed = sorted(set().union(*previous.values()) - set().union(*changed.values()))
    if missed:
        # Say why, as they are now (usually linked by someone else a moment ago).
        still = _eligible(host, action, missed, result)
        if still:
            result.skipped["changed meanwhile"] = sum(len(ids) for ids in still.values())
    previous = {key: sorted(ids) for key, ids in changed.items() if ids}
    eligible = sorted(row_id for ids in previous.values() for row_id in ids)
    result.done, result.row_ids = len(eligible), eligible
    audit.record(host, user, f"import_rows.bulk_{action}", object_type="import_rows", object_id=import_id,
                 data={"previous": dict(previous), "skipped": result.skipped, "count": result.done,
                       "to": target if action != "assign" else collective.id,
                       "selection": "filter" if filters is not None else "ids"})
    db.session.commit()
    db.session.expire_all()
    return result


def _eligible(host, action, row_ids, result):
    """{previous status (or collective id for assign): [row ids]} of the rows `action` applies to.

    Rows it does not apply to are counted in `result.skipped` by reason.
    """
    allowed = ACTIONS[action][1]
    previous = defaultdict(list)
    for chunk in _chunks(row_ids):
        for row_id, status, collective_id, removed_at in db.session.execute(
                select(ImportRow.id, ImportRow.status, ImportRow.collective_id, ImportRow.removed_at)
                .where(ImportRow.host_id == host.id, ImportRow.id.in_(chunk))):
            if status == LINKED:
                reason = "linked"
            elif removed_at is not None:  # nothing to triage: it is in no open tab
                reason = "removed by the bank"
            else:
                reason = None if status in allowed else ALREADY[status]
            if reason:
                result.skipped[reason] = result.skipped.get(reason, 0) + 1
            else:
                previous[status if action != "assign" else str(collective_id or "")].append(row_id)
    return previous


def undo_bulk(host, entry):
    """Put the rows of a bulk action back as they were, where nobody changed them since (not committed)."""
    data = entry.data or {}
    action = entry.action.removeprefix("import_rows.bulk_")
    touched = []
    for key, ids in data.get("previous", {}).items():
        for chunk in _chunks(ids):
            if action == "assign":
                condition = [ImportRow.collective_id == data["to"], ImportRow.status != LINKED]
                values = {"collective_id": int(key) if key else None}
            else:
                condition = [ImportRow.status == data["to"]]
                values = {"status": key}
            result = db.session.execute(
                update(ImportRow).where(ImportRow.host_id == host.id, ImportRow.id.in_(chunk), *condition)
                .values(**values, updated_at=utcnow(), version=ImportRow.version + 1)
                .execution_options(synchronize_session=False))
            if result.rowcount:
                touched += chunk
    db.session.expire_all()
    return touched


def _chunks(items):
    items = list(items)
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]
