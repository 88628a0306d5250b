"""Reading the ledger: filtered keyset pages by effective date, groups, and the links between reversals."""
import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists, func, literal, or_, select, tuple_
from sqlalchemy.orm import aliased

from hostadmin.extensions import db
from hostadmin.funds import cleared
from hostadmin.ledger.models import Account, AccountKind, LedgerTransaction
from hostadmin.types import UTCDateTime

PAGE_SIZE = 50
ACCOUNT_MATCHES = 200  # accounts whose name matches a text search, at most
GROUP_ID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

Row = LedgerTransaction
# The effective date, exactly as the indexes of migration 0005_h12 spell it.
EFFECTIVE = func.coalesce(Row.cleared_at, Row.created_at)
# The same value spelt so that no index matches it. With a recorded-date range, walking the effective-date
# index looks cheap to the planner (it expects the matches spread evenly) but they sit together, often deep
# in it; ordering by this makes it find the range by its own index and sort only those rows.
EFFECTIVE_UNINDEXED = func.coalesce(Row.cleared_at, Row.created_at, Row.created_at)


@dataclass
class Page:
    rows: list
    next_cursor: str | None
    # Per row id: the rows and groups it links to (filled by `annotate`).
    accounts: dict = field(default_factory=dict)
    group_sizes: dict = field(default_factory=dict)
    reversed_by: dict = field(default_factory=dict)   # original row id -> reversal row
    reverses: dict = field(default_factory=dict)      # reversal row id -> original row


def apply_filters(query, host, filters):
    """Narrow `query` (of ledger rows) by every filter; date ranges in the host's zone, end inclusive."""
    if filters.effective_from:
        query = query.where(EFFECTIVE >= cleared.start_of_day(host, filters.effective_from))
    if filters.effective_to:
        query = query.where(EFFECTIVE < cleared.end_of_day(host, filters.effective_to))
    if filters.recorded_from:
        query = query.where(Row.created_at >= cleared.start_of_day(host, filters.recorded_from))
    if filters.recorded_to:
        query = query.where(Row.created_at < cleared.end_of_day(host, filters.recorded_to))
    if filters.kind:
        query = query.where(Row.kind == filters.kind)
    if filters.type:
        query = query.where(Row.type == filters.type)
    if filters.min_amount is not None or filters.max_amount is not None:
        query = query.where(_magnitude_between(filters.min_amount, filters.max_amount))
    if filters.q:
        query = query.where(_text_matches(host, filters.q))
    if filters.hide_corrections:
        # A reversal and what it reverses net out: hiding both leaves the money that stands.
        reversal = aliased(Row)
        query = query.where(Row.is_refund.is_(False), ~exists().where(reversal.refund_of_id == Row.id))
    return query


def _magnitude_between(low, high):
    low = max(low or 0, 1)
    if high is None:
        return or_(Row.amount >= low, Row.amount <= -low)
    return or_(Row.amount.between(low, high), Row.amount.between(-high, -low))


def _text_matches(host, text):
    """Description or reason containing `text`, or an account or counterparty whose name does."""
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    named = db.session.scalars(select(Account.id).where(
        Account.host_id == host.id, Account.name.ilike(pattern, escape="\\")).limit(ACCOUNT_MATCHES)).all()
    terms = [Row.description.ilike(pattern, escape="\\"), Row.reason.ilike(pattern, escape="\\")]
    if named:
        terms += [Row.account_id.in_(named), Row.counterparty_id.in_(named)]
    return or_(*terms)


def page_of_rows(host, filters, account=None, after=None, size=PAGE_SIZE):
    """One page, newest effective date first, after the keyset cursor `after` (never OFFSET).

    `account` limits it to one account's rows (a collective's page); else the filter's collective.
    """
    query = select(Row).where(Row.host_id == host.id)
    account_id = account.id if account is not None else filters.collective
    if account_id is not None:
        query = query.where(Row.account_id == account_id)
    query = apply_filters(query, host, filters)
    by_recorded = (filters.recorded_from or filters.recorded_to) and not (filters.effective_from
                                                                          or filters.effective_to)
    key = EFFECTIVE_UNINDEXED if by_recorded else EFFECTIVE
    cursor = decode_cursor(after)
    if cursor is not None:
        bound = tuple_(literal(cursor[0], UTCDateTime()), literal(cursor[1], Row.id.type))
        query = query.where(tuple_(key, Row.id) < bound)
    rows = db.session.scalars(query.order_by(key.desc(), Row.id.desc()).limit(size + 1)).all()
    page = Page(rows[:size], encode_cursor(rows[size - 1]) if len(rows) > size else None)
    return annotate(host, page)


def encode_cursor(row):
    """The keyset cursor after `row`: its effective moment (UTC) and id."""
    return f"{row.effective_at.isoformat()}~{row.id}"


def decode_cursor(text):
    """(aware datetime, id) from a cursor, or None when absent or malformed."""
    try:
        moment, row_id = (text or "").split("~")
        moment, row_id = datetime.fromisoformat(moment), int(row_id)
    except ValueError:
        return None
    if moment.tzinfo is None or not 0 < row_id < 2**63:
        return None
    return moment, row_id


def annotate(host, page):
    """Load what the rows show besides themselves: account names, group sizes, reversal links."""
    rows = page.rows
    if not rows:
        return page
    reversals = db.session.scalars(select(Row).where(Row.refund_of_id.in_([r.id for r in rows]))).all()
    page.reversed_by = {r.refund_of_id: r for r in reversals}
    originals = [r.refund_of_id for r in rows if r.refund_of_id]
    page.reverses = {}
    if originals:
        by_id = {r.id: r for r in db.session.scalars(select(Row).where(Row.id.in_(originals)))}
        page.reverses = {r.id: by_id[r.refund_of_id] for r in rows if r.refund_of_id in by_id}
    account_ids = {r.account_id for r in rows} | {r.counterparty_id for r in rows}
    page.accounts = {a.id: a for a in db.session.scalars(select(Account).where(
        Account.host_id == host.id, Account.id.in_(account_ids)))}
    page.group_sizes = dict(db.session.execute(
        select(Row.group_id, func.count()).where(Row.host_id == host.id,
                                                 Row.group_id.in_({r.group_id for r in rows}))
        .group_by(Row.group_id)).all())
    return page


def group_page(host, group_id):
    """Every row of one of the host's groups (by id), annotated like a list page; None if there is none."""
    if not GROUP_ID_RE.match(group_id or ""):
        return None
    rows = db.session.scalars(select(Row).where(Row.host_id == host.id, Row.group_id == group_id)
                              .order_by(Row.id)).all()
    return annotate(host, Page(rows, None)) if rows else None


def group_summary(page):
    """What a group page says about its group: its order/expense, and the groups it reverses or is reversed by."""
    first = page.rows[0]
    reverses = {r.group_id for r in page.reverses.values()}
    reversed_by = {r.group_id for r in page.reversed_by.values()}
    return {"group_id": first.group_id, "order_id": first.order_id, "expense_id": first.expense_id,
            "reason": first.reason, "correction": first.correction,
            "reverses": sorted(reverses), "reversed_by": sorted(reversed_by)}


def collective_choices(host):
    """The host's collectives by name (the collective filter)."""
    return db.session.scalars(select(Account).where(
        Account.host_id == host.id, Account.kind == AccountKind.COLLECTIVE.value).order_by(Account.name)).all()
