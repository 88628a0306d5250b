"""Reading import rows: filters, keyset pagination, counts per status, imports overview."""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, literal, or_, select, tuple_

from hostadmin.banking.models import BankAccount, PlaidItem
from hostadmin.extensions import db
from hostadmin.imports.forms import ROW_STATUSES, Filters
from hostadmin.imports.models import ImportRow, ImportRun, ImportSource, RowStatus, TransactionsImport
from hostadmin.imports import payouts as payouts_module
from hostadmin.ledger.models import Account, AccountKind, Expense, Order
from hostadmin.money import format_money
from hostadmin.params import MAX_INT, parse_id, parse_int

PAGE_SIZE = 50
COUNT_CAP = 10_000


@dataclass
class Page:
    rows: list
    next_cursor: str | None


def scoped(host, import_id=None):
    """Rows of `host` (and of one of its imports)."""
    query = select(ImportRow).where(ImportRow.host_id == host.id)
    if import_id is not None:
        query = query.where(ImportRow.import_id == import_id)
    return query


def apply_filters(query, filters, with_status=True):
    """Narrow `query` by every filter (the status tab too unless with_status is False)."""
    if with_status:
        query = query.where(*status_clause(filters.status))
    if filters.account:
        query = query.where(ImportRow.bank_account_id == filters.account)
    if filters.statement:
        query = query.where(ImportRow.import_id == filters.statement, ImportRow.bank_account_id.is_(None))
    if filters.direction == "in":
        query = query.where(ImportRow.amount > 0)
    elif filters.direction == "out":
        query = query.where(ImportRow.amount < 0)
    if filters.date_from:
        query = query.where(ImportRow.date >= filters.date_from)
    if filters.date_to:
        query = query.where(ImportRow.date <= filters.date_to)
    if filters.min_amount is not None or filters.max_amount is not None:
        query = query.where(_magnitude_between(filters))
    if filters.q:
        # ILIKE on each column separately so PostgreSQL can use its trigram index on each.
        pattern = "%" + filters.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(ImportRow.description.ilike(pattern, escape="\\"),
                                ImportRow.merchant_name.ilike(pattern, escape="\\"),
                                ImportRow.note.ilike(pattern, escape="\\")))
    return query


# Tabs of rows still waiting for triage. A row the bank removed waits for nobody: it leaves these
# by itself (a posted row has taken over its triage) and shows under "Removed by bank".
OPEN_TABS = ("PENDING", "ON_HOLD")


def status_clause(tab):
    """WHERE terms of a status tab."""
    if tab in OPEN_TABS:
        return [ImportRow.status == tab, ImportRow.removed_at.is_(None)]
    if tab in ROW_STATUSES:
        return [ImportRow.status == tab]
    if tab == "REVIEW":
        return [ImportRow.needs_review]
    if tab == "REMOVED":
        return [ImportRow.removed_at.is_not(None)]
    return []


def _magnitude_between(filters):
    low = filters.min_amount if filters.min_amount is not None else 0
    high = filters.max_amount
    money_in = ImportRow.amount >= max(low, 1) if high is None else ImportRow.amount.between(max(low, 1), high)
    money_out = ImportRow.amount <= -max(low, 1) if high is None else ImportRow.amount.between(-high, -max(low, 1))
    if filters.direction == "in":
        return money_in
    if filters.direction == "out":
        return money_out
    return or_(money_in, money_out)


def _sort_key(sort):
    column = ImportRow.amount if sort.startswith("amount") else ImportRow.date
    return column, sort.endswith("_desc")


def page_of_rows(host, filters, import_id=None, after=None, size=PAGE_SIZE):
    """One page of rows in the chosen order, after the keyset cursor `after` (never OFFSET)."""
    column, descending = _sort_key(filters.sort)
    query = apply_filters(scoped(host, import_id), filters)
    cursor = decode_cursor(after, filters.sort)
    if cursor is not None:
        key = tuple_(column, ImportRow.id)
        bound = tuple_(literal(cursor[0], column.type), literal(cursor[1], ImportRow.id.type))
        query = query.where(key < bound if descending else key > bound)
    order = (column.desc(), ImportRow.id.desc()) if descending else (column.asc(), ImportRow.id.asc())
    rows = db.session.scalars(query.order_by(*order).limit(size + 1)).all()
    next_cursor = encode_cursor(rows[size - 1], filters.sort) if len(rows) > size else None
    return Page(rows[:size], next_cursor)


def encode_cursor(row, sort):
    """The keyset cursor after `row` in the `sort` order."""
    value = row.amount if sort.startswith("amount") else row.date.isoformat()
    return f"{value}~{row.id}"


def decode_cursor(text, sort):
    """(value, id) from a cursor string, or None if absent or malformed."""
    value, _, row_id = (text or "").partition("~")
    row_id = parse_id(row_id)
    if row_id is None:
        return None
    if sort.startswith("amount"):
        amount = parse_int(value, minimum=-MAX_INT, maximum=MAX_INT)
        return (amount, row_id) if amount is not None else None
    try:
        return date.fromisoformat(value), row_id
    except ValueError:
        return None


def status_counts(host, filters, import_id=None):
    """{tab: count} for every tab under the non-status filters; large counts stop at COUNT_CAP.

    Counting a million rows exactly costs more than the page itself, and nobody triages
    by the difference between 10,001 and 600,000: above the cap a tab says "10,000+".
    Without a text search each tab is one capped index scan. With one, a single pass over
    (at most COUNT_CAP + 1 of) the matching rows is grouped by status: the trigram index
    finds rare words at once, and common words stop early; "partial" marks lower bounds.
    """
    base = apply_filters(scoped(host, import_id), filters, with_status=False)
    if filters.q:
        return _grouped_counts(base)
    counts = {"partial": False}
    for tab in ("PENDING", "ON_HOLD", "IGNORED", "LINKED", "REVIEW", "REMOVED"):
        counts[tab] = _capped_count(base.where(*status_clause(tab)))
    # "All" also lists removed rows of the open statuses, which no status tab counts.
    removed_open = _capped_count(base.where(ImportRow.removed_at.is_not(None), ImportRow.status.in_(OPEN_TABS)))
    listed = removed_open + sum(counts[tab] for tab in ("PENDING", "ON_HOLD", "IGNORED", "LINKED"))
    counts["ALL"] = min(COUNT_CAP + 1, listed)
    return counts


def _capped_count(query):
    capped = query.with_only_columns(ImportRow.id).limit(COUNT_CAP + 1)
    return db.session.scalar(select(func.count()).select_from(capped.subquery()))


def _grouped_counts(base):
    matching = base.with_only_columns(ImportRow.status, ImportRow.needs_review, ImportRow.removed_at) \
        .limit(COUNT_CAP + 1).subquery()
    counts = dict.fromkeys(("PENDING", "ON_HOLD", "IGNORED", "LINKED", "REVIEW", "REMOVED", "ALL"), 0)
    for status, number, review, removed in db.session.execute(
            select(matching.c.status, func.count(),
                   func.count().filter(matching.c.needs_review.is_(True)), func.count(matching.c.removed_at))
            .group_by(matching.c.status)):
        counts[status] += number - removed if status in OPEN_TABS else number
        counts["REVIEW"] += review
        counts["REMOVED"] += removed
        counts["ALL"] += number
    counts["partial"] = counts["ALL"] > COUNT_CAP
    return counts


def count_label(counts, tab):
    """ "1,234"; "10,000+" above the cap; "1,234+" when the counting stopped early."""
    number = counts[tab]
    if number > COUNT_CAP:
        return f"{COUNT_CAP:,}+"
    return f"{number:,}+" if counts.get("partial") and number else f"{number:,}"


def matching_ids(host, filters, import_id=None):
    """Ids of every row matching the filters (for "all N rows matching" bulk actions)."""
    return db.session.scalars(apply_filters(scoped(host, import_id), filters)
                              .with_only_columns(ImportRow.id)).all()


def newest_row_id(host):
    """The host's highest row id (the new-rows notice counts rows above it)."""
    return db.session.scalar(select(func.max(ImportRow.id)).where(ImportRow.host_id == host.id)) or 0


def new_rows_count(host, filters, since_id, import_id=None):
    """Rows matching the filters that arrived after the list was drawn (id > since_id)."""
    query = apply_filters(scoped(host, import_id), filters).where(ImportRow.id > since_id)
    capped = query.with_only_columns(ImportRow.id).limit(COUNT_CAP + 1)
    return db.session.scalar(select(func.count()).select_from(capped.subquery()))


def imports_overview(host):
    """Every import of the host with its accounts, last sync and counts by status."""
    imports = db.session.scalars(select(TransactionsImport).where(TransactionsImport.host_id == host.id)
                                 .order_by(TransactionsImport.created_at, TransactionsImport.id)).all()
    counts = {imp.id: status_counts(host, Filters(status="ALL"), imp.id) for imp in imports}
    accounts = {}
    for account in db.session.scalars(select(BankAccount).where(BankAccount.host_id == host.id)
                                      .order_by(BankAccount.id)):
        accounts.setdefault(account.item_id, []).append(account)
    last_runs = dict(db.session.execute(
        select(ImportRun.import_id, func.max(ImportRun.finished_at))
        .where(ImportRun.host_id == host.id).group_by(ImportRun.import_id)).all())
    return [{"import": imp, "counts": counts[imp.id], "accounts": accounts.get(imp.plaid_item_id, []),
             "last_synced_at": imp.last_synced_at or (imp.item.last_synced_at if imp.item else None)
             or last_runs.get(imp.id)} for imp in imports]


def bank_accounts(host):
    """The host's bank accounts, by connection."""
    return db.session.scalars(select(BankAccount).join(PlaidItem).where(BankAccount.host_id == host.id)
                              .order_by(PlaidItem.id, BankAccount.id)).all()


def statement_accounts(host):
    """(import id, account label) of the host's statement imports, for the bank-account filter."""
    imports = db.session.scalars(select(TransactionsImport).where(
        TransactionsImport.host_id == host.id, TransactionsImport.source == ImportSource.CSV.value)
        .order_by(TransactionsImport.name, TransactionsImport.id)).all()
    return [(imp.id, (imp.csv_mapping or {}).get("account") or imp.name) for imp in imports]


def accounts_of_kind(host, kind):
    """The host's collectives (or contributors …) by name."""
    return db.session.scalars(select(Account).where(Account.host_id == host.id,
                                                    Account.kind == AccountKind(kind).value)
                              .order_by(Account.name)).all()


def names_for(rows):
    """Labels the rows list needs: bank accounts and collectives, loaded once per page."""
    account_ids = {row.bank_account_id for row in rows if row.bank_account_id}
    collective_ids = {row.collective_id for row in rows if row.collective_id}
    labels = {a.id: a.label for a in db.session.scalars(
        select(BankAccount).where(BankAccount.id.in_(account_ids)))} if account_ids else {}
    collectives = {a.id: a.name for a in db.session.scalars(
        select(Account).where(Account.id.in_(collective_ids)))} if collective_ids else {}
    # Rows of uploaded statements have no Plaid account: their import's account label names the account.
    statement_ids = {row.import_id for row in rows if not row.bank_account_id}
    statements = {imp.id: (imp.csv_mapping or {}).get("account") or imp.name for imp in db.session.scalars(
        select(TransactionsImport).where(TransactionsImport.id.in_(statement_ids),
                                         TransactionsImport.source == "CSV"))} if statement_ids else {}
    # Rows linked to a processor payout (a transfer, no ledger group): the payout's name.
    payouts = {row_id: payouts_module.label(payout) for row_id, payout in payouts_module.linked_to(rows).items()}
    return {"account_labels": labels, "collective_names": collectives, "statement_accounts": statements,
            "payout_names": payouts, "link_mismatch": link_mismatches(rows)}


def link_mismatches(rows):
    """{row id: "The bank line is now $12.00; order #3 is $10.00."} for linked rows whose amount no longer
    matches what they are linked to (the bank changed the line after the link)."""
    orders = {row.order_id: row for row in rows if row.status == RowStatus.LINKED.value and row.order_id}
    expenses = {row.expense_id: row for row in rows if row.status == RowStatus.LINKED.value and row.expense_id}
    found = {}
    for model, linked, what in ((Order, orders, "order"), (Expense, expenses, "expense")):
        if not linked:
            continue
        for target in db.session.scalars(select(model).where(model.id.in_(linked))):
            row = linked[target.id]
            if abs(row.amount) != target.amount or row.currency != target.currency:
                found[row.id] = (f"The bank line is now {format_money(abs(row.amount), row.currency)}; "
                                 f"{what} #{target.id} is {format_money(target.amount, target.currency)}.")
    return found


def row_is_open(row):
    """True when a row may still be linked (not linked, not ignored, not removed)."""
    return row.status in (RowStatus.PENDING.value, RowStatus.ON_HOLD.value) and row.removed_at is None


def matching_totals(host, filters, import_id=None):
    """({currency: sum}, count) of the rows matching the filters, over at most COUNT_CAP + 1 of them."""
    capped = apply_filters(scoped(host, import_id), filters) \
        .with_only_columns(ImportRow.currency, ImportRow.amount).limit(COUNT_CAP + 1).subquery()
    totals, count = {}, 0
    for currency, amount, number in db.session.execute(
            select(capped.c.currency, func.sum(capped.c.amount), func.count()).group_by(capped.c.currency)):
        totals[currency] = int(amount or 0)
        count += number
    return dict(sorted(totals.items())), count
