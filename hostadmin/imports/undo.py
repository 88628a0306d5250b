"""Undo (`u`): the user's last reversible triage action, put back where nobody changed it since."""
from sqlalchemy import select

from hostadmin.audit import service as audit
from hostadmin.audit.models import AuditEntry
from hostadmin.extensions import db
from hostadmin.imports import bulk
from hostadmin.imports.models import ImportRow
from hostadmin.imports.service import LINK_ACTIONS, TriageError, update_or_refuse

UNDOABLE = ("import_row.ignore", "import_row.hold", "import_row.restore", "import_row.note", *LINK_ACTIONS,
            "import_rows.bulk_ignore", "import_rows.bulk_hold", "import_rows.bulk_restore", "import_rows.bulk_assign")


def last_undoable(host, user):
    """The user's most recent action on this host that can still be undone, or None."""
    recent = db.session.scalars(select(AuditEntry).where(
        AuditEntry.host_id == host.id, AuditEntry.user_id == user.id,
        AuditEntry.action.in_((*UNDOABLE, "import_row.undo", "import_row.unlink")))
        .order_by(AuditEntry.id.desc()).limit(100)).all()
    undone = {(entry.data or {}).get("undoes") for entry in recent if entry.action == "import_row.undo"}
    unlinked = set()  # rows unlinked later: their earlier link is undone already
    for entry in recent:
        if entry.action == "import_row.unlink":
            unlinked.add(entry.object_id)
        elif entry.action in LINK_ACTIONS and entry.object_id in unlinked:
            unlinked.discard(entry.object_id)
        elif entry.action in UNDOABLE and entry.id not in undone:
            return entry
    return None


def undo(host, user, entry):
    """Undo a status, note or bulk action; returns the rows it touched (links go through unlink)."""
    if entry.action in LINK_ACTIONS:
        raise TriageError("Undoing a link reverses ledger entries: confirm the unlink.")
    if entry.action.startswith("import_rows.bulk_"):
        row_ids = bulk.undo_bulk(host, entry)
    else:
        row = db.session.get(ImportRow, entry.object_id)
        if row is None or row.host_id != host.id:
            raise TriageError("That row is gone.")
        before, after = entry.before or {}, entry.after or {}
        if entry.action == "import_row.note":
            if row.note != after.get("note"):
                raise TriageError("The note changed again since; nothing was undone.")
            update_or_refuse(row, {"note": after.get("note")}, {"note": before.get("note")})
        else:
            update_or_refuse(row, {"status": after["status"]}, {"status": before["status"]})
        row_ids = [row.id]
    audit.record(host, user, "import_row.undo", object_type=entry.object_type, object_id=entry.object_id,
                 data={"undoes": entry.id, "action": entry.action})
    db.session.commit()
    return row_ids
