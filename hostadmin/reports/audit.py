"""The audit trail: filters, keyset pages (newest first) and a streamed CSV of the same rows."""
import json
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from hostadmin.audit.models import AuditEntry
from hostadmin.auth.models import User
from hostadmin.extensions import db
from hostadmin.funds import cleared
from hostadmin.params import parse_id
from hostadmin.text import clean_line

PAGE_SIZE = 50
CSV_HEADER = ("at", "user", "action", "object_type", "object_id", "before", "after", "reason", "data")


@dataclass(frozen=True)
class Filters:
    """What the page shows; every field comes from the query string, cleaned."""

    action: str = ""
    object_type: str = ""
    object_id: int | None = None
    user: str = ""
    start: date | None = None
    end: date | None = None
    before: int | None = None

    @classmethod
    def from_args(cls, args):
        """Filters from request.args; anything malformed is ignored, never an error."""
        return cls(action=clean_line(args.get("action", ""), 60).strip(),
                   object_type=clean_line(args.get("object_type", ""), 40).strip(),
                   object_id=parse_id(args.get("object_id")), user=clean_line(args.get("user", ""), 254).strip(),
                   start=_date(args.get("from")), end=_date(args.get("to")), before=parse_id(args.get("before")))

    def args(self, **changes):
        """Query-string arguments for a link (only the fields set)."""
        values = {"action": self.action, "object_type": self.object_type, "object_id": self.object_id,
                  "user": self.user, "from": self.start and self.start.isoformat(),
                  "to": self.end and self.end.isoformat(), **changes}
        return {key: value for key, value in values.items() if value not in (None, "")}


@dataclass
class Page:
    rows: list
    next_before: int | None


def _query(host, filters):
    query = (select(AuditEntry, User.email).outerjoin(User, User.id == AuditEntry.user_id)
             .where(AuditEntry.host_id == host.id))
    if filters.action:
        # "funds" matches every funds.* action; "funds.add" exactly that one.
        query = query.where((AuditEntry.action == filters.action)
                            | AuditEntry.action.startswith(filters.action + ".", autoescape=True))
    if filters.object_type:
        query = query.where(AuditEntry.object_type == filters.object_type)
    if filters.object_id is not None:
        query = query.where(AuditEntry.object_id == filters.object_id)
    if filters.user:
        query = query.where(User.email == filters.user.lower())
    if filters.start:
        query = query.where(AuditEntry.at >= cleared.start_of_day(host, filters.start))
    if filters.end:
        query = query.where(AuditEntry.at < cleared.end_of_day(host, filters.end))
    return query


def page(host, filters):
    """One page of entries, newest first; next_before continues after its last entry (keyset on id)."""
    query = _query(host, filters)
    if filters.before is not None:
        query = query.where(AuditEntry.id < filters.before)
    rows = db.session.execute(query.order_by(AuditEntry.id.desc()).limit(PAGE_SIZE + 1)).all()
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return Page(rows=rows, next_before=rows[-1][0].id if more else None)


def csv_rows(host, filters):
    """The header, then every matching entry (streamed), newest first."""
    yield CSV_HEADER
    zone = cleared.zone_of(host)
    result = db.session.execute(_query(host, filters).order_by(AuditEntry.id.desc())
                                .execution_options(yield_per=1000, stream_results=True))
    for entry, email in result:
        data = entry.data or {}
        yield (entry.at.astimezone(zone).isoformat(), email or "", entry.action, entry.object_type,
               entry.object_id if entry.object_id is not None else "", _json(entry.before), _json(entry.after),
               data.get("reason") or "", _json(data))


def changes(entry):
    """[(field, before, after)] for the fields an entry changed."""
    before, after = entry.before or {}, entry.after or {}
    return [(key, before.get(key), after.get(key)) for key in sorted(set(before) | set(after))
            if before.get(key) != after.get(key)]


def _json(value):
    return json.dumps(value, sort_keys=True, ensure_ascii=False) if value else ""


def _date(text):
    try:
        return date.fromisoformat(clean_line(text or "", 10).strip())
    except ValueError:
        return None
