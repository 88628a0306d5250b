"""Reading the event log for the Webhooks page: filters, keyset pages, and the sync run each event caused."""
from dataclasses import dataclass

from sqlalchemy import select

from hostadmin.banking.models import PlaidItem
from hostadmin.extensions import db
from hostadmin.imports.models import ImportRun, TransactionsImport
from hostadmin.params import parse_id
from hostadmin.text import clean_line
from hostadmin.webhooks.models import WebhookEvent

PAGE_SIZE = 50
OUTCOMES = ("RECEIVED", "DISPATCHED", "APPLIED", "IGNORED")


@dataclass
class Filters:
    """What the admin filtered on (all optional)."""

    code: str = ""
    outcome: str = ""
    item_id: int | None = None
    before: int | None = None

    @classmethod
    def from_args(cls, args):
        """Parse query-string filters, dropping anything malformed."""
        def number(name):
            return parse_id(args.get(name))
        outcome = args.get("outcome", "")
        return cls(code=clean_line(args.get("code", ""))[:50], outcome=outcome if outcome in OUTCOMES else "",
                   item_id=number("item"), before=number("before"))

    def args(self, **changes):
        """Query-string arguments for a link with these filters (and `changes`)."""
        values = {"code": self.code, "outcome": self.outcome, "item": self.item_id, "before": self.before}
        values.update(changes)
        return {key: value for key, value in values.items() if value not in ("", None)}


@dataclass
class Row:
    event: WebhookEvent
    item: PlaidItem | None
    run: ImportRun | None


@dataclass
class Page:
    rows: list
    next_before: int | None


def event_page(host, filters):
    """One page (newest first) of the host's events with their item and caused sync run."""
    query = (select(WebhookEvent, PlaidItem)
             .outerjoin(PlaidItem, PlaidItem.id == WebhookEvent.item_id)
             .where(WebhookEvent.host_id == host.id))
    if filters.code:
        query = query.where(WebhookEvent.webhook_code == filters.code)
    if filters.outcome:
        query = query.where(WebhookEvent.outcome == filters.outcome)
    if filters.item_id:
        query = query.where(WebhookEvent.item_id == filters.item_id)
    if filters.before:
        query = query.where(WebhookEvent.id < filters.before)
    found = db.session.execute(query.order_by(WebhookEvent.id.desc()).limit(PAGE_SIZE + 1)).all()
    more = len(found) > PAGE_SIZE
    found = found[:PAGE_SIZE]
    runs = _runs_caused(host, [event for event, _ in found])
    rows = [Row(event, item, runs.get(event.id)) for event, item in found]
    return Page(rows, rows[-1].event.id if more else None)


def _runs_caused(host, events):
    """event id -> the first sync run of its item that started at or after it was dispatched.

    Coalesced duplicates share one run, which is the truth: that run answered all of them.
    """
    dispatched = [e for e in events if e.job_id and e.dispatched_at and e.item_id]
    explicit = {e.id: e.sync_run_id for e in events if e.sync_run_id}
    if not dispatched and not explicit:
        return {}
    earliest = min((e.dispatched_at for e in dispatched), default=None)
    query = (select(ImportRun, TransactionsImport.plaid_item_id)
             .join(TransactionsImport, TransactionsImport.id == ImportRun.import_id)
             .where(ImportRun.host_id == host.id))
    if earliest is not None:
        query = query.where(ImportRun.started_at >= earliest)
    runs_by_item, runs_by_id = {}, {}
    for run, item_id in db.session.execute(query.order_by(ImportRun.started_at, ImportRun.id)).all():
        runs_by_item.setdefault(item_id, []).append(run)
        runs_by_id[run.id] = run
    caused = {}
    for event in dispatched:
        caused[event.id] = next((run for run in runs_by_item.get(event.item_id, [])
                                 if run.started_at >= event.dispatched_at), None)
    for event_id, run_id in explicit.items():
        caused[event_id] = runs_by_id.get(run_id) or db.session.get(ImportRun, run_id)
    return caused


def filter_choices(host):
    """The codes and items this host's events can be filtered by."""
    codes = db.session.scalars(select(WebhookEvent.webhook_code).distinct()
                               .where(WebhookEvent.host_id == host.id, WebhookEvent.webhook_code.is_not(None))
                               .order_by(WebhookEvent.webhook_code)).all()
    items = db.session.scalars(select(PlaidItem).where(PlaidItem.host_id == host.id)
                               .order_by(PlaidItem.id)).all()
    return {"codes": codes, "outcomes": OUTCOMES, "banks": items}
