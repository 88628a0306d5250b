"""Writing audit entries (inside the caller's transaction)."""
from hostadmin.audit.models import AuditEntry
from hostadmin.clock import utcnow
from hostadmin.extensions import db


def record(host, user, action, obj=None, *, object_type=None, object_id=None,
           before=None, after=None, data=None):
    """Add an audit entry for `action` on `obj` (or object_type/object_id); not committed."""
    entry = AuditEntry(
        host_id=host.id,
        user_id=user.id if user is not None and getattr(user, "id", None) else None,
        action=action,
        object_type=object_type or (obj.__tablename__ if obj is not None else "host"),
        object_id=object_id if object_id is not None else (obj.id if obj is not None else None),
        before=before, after=after, data=data, at=utcnow(),
    )
    db.session.add(entry)
    return entry


def record_many(host, user, action, object_type, entries):
    """Audit entries for many objects in one multi-row INSERT; `entries` are dicts of object_id, before,
    after, data. Not committed (a batch of a thousand stays a few statements)."""
    now = utcnow()
    rows = [{"host_id": host.id, "user_id": user.id if user is not None and getattr(user, "id", None) else None,
             "action": action, "object_type": object_type, "at": now, "before": None, "after": None, "data": None,
             **entry} for entry in entries]
    if rows:
        db.session.execute(AuditEntry.__table__.insert(), rows)
