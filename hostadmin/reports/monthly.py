"""The monthly report: per collective the opening balance, money in and out by kind, the closing balance.

Everything is by effective date (cleared_at, else created_at) in the host's time zone. A correction is
a reversal group: it sits in the month it is dated (the month it was recorded when the original month was
closed) and carries a note saying what it reverses. build() checks that the figures reconcile before it
returns; a report that does not add up is an error, never a document.
"""
from collections import defaultdict
from dataclasses import asdict, dataclass, field

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import aliased

from hostadmin.extensions import db
from hostadmin.funds import cleared
from hostadmin.ledger.models import Account, AccountKind, LedgerKind, LedgerTransaction, Order
from hostadmin.ledger.service import LedgerError
from hostadmin.money import major_units

COLUMNS = ("contributions", "added_funds", "expenses", "host_fees", "processor_fees", "corrections")
KIND_COLUMNS = {LedgerKind.CONTRIBUTION.value: "contributions", LedgerKind.ADDED_FUNDS.value: "added_funds",
                LedgerKind.EXPENSE.value: "expenses", LedgerKind.HOST_FEE.value: "host_fees",
                LedgerKind.PROCESSOR_FEE.value: "processor_fees"}
CSV_HEADER = ("collective", "opening", *COLUMNS, "closing", "currency")


class ReconciliationError(LedgerError):
    """The month's figures do not add up; the message lists every check that failed."""


@dataclass
class Line:
    """One collective's month (or the TOTAL): amounts in host-currency minor units."""

    slug: str
    name: str
    opening: int = 0
    money_in: dict = field(default_factory=lambda: dict.fromkeys(COLUMNS, 0))
    money_out: dict = field(default_factory=lambda: dict.fromkeys(COLUMNS, 0))
    closing: int = 0

    def net(self, column):
        """Money in minus money out for one column."""
        return self.money_in[column] - self.money_out[column]

    @property
    def total_in(self):
        return sum(self.money_in.values())

    @property
    def total_out(self):
        return sum(self.money_out.values())


@dataclass
class CorrectionNote:
    """A reversal in this month and what it corrects."""

    group_id: str
    correction: str
    collective: str
    amount: int
    reason: str
    corrects_group_id: str
    corrects_date: str
    corrects_month: str
    text: str


@dataclass
class MonthlyReport:
    host: str
    month: str
    currency: str
    timezone: str
    lines: list
    total: Line
    host_fee_income: int
    processor_fees: int
    notes: list
    row_count: int

    def to_dict(self):
        """Plain data, to store with a closed month's version."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data):
        """The report stored by to_dict()."""
        return cls(**{**data, "lines": [Line(**line) for line in data["lines"]], "total": Line(**data["total"]),
                      "notes": [CorrectionNote(**note) for note in data["notes"]]})

    def csv_rows(self):
        """The CSV contract: a header, one row per collective (slug), then TOTAL; plain decimals."""
        yield CSV_HEADER
        for line in [*self.lines, self.total]:
            amounts = [line.opening, *(line.net(column) for column in COLUMNS), line.closing]
            yield (line.slug, *(major_units(amount, self.currency) for amount in amounts), self.currency)


def build(host, month):
    """The checked report of `month` ("YYYY-MM", host time zone); ReconciliationError when it does not add up."""
    month = cleared.parse_month(month)
    start, end = cleared.month_bounds(host, month)
    row = LedgerTransaction
    effective = _effective()
    collectives = db.session.scalars(select(Account).where(
        Account.host_id == host.id, Account.kind == AccountKind.COLLECTIVE.value).order_by(Account.slug)).all()
    lines = {account.id: Line(account.slug, account.name) for account in collectives}
    closing = {}
    for account_id, opening, balance in _balances(host, start, end):
        lines[account_id].opening = opening
        closing[account_id] = balance

    kinds_of = {account.id: account.kind for account in db.session.scalars(
        select(Account).where(Account.host_id == host.id))}
    month_sum, row_count = 0, 0
    host_fee_income, processor_fees, collective_host_fees = 0, 0, 0
    movements = db.session.execute(
        select(row.account_id, row.kind, row.is_refund,
               func.coalesce(func.sum(case((row.amount_in_host_currency > 0, row.amount_in_host_currency),
                                           else_=0)), 0),
               func.coalesce(func.sum(case((row.amount_in_host_currency < 0, -row.amount_in_host_currency),
                                           else_=0)), 0),
               func.count())
        .where(row.host_id == host.id, effective >= start, effective < end)
        .group_by(row.account_id, row.kind, row.is_refund))
    for account_id, kind, is_refund, money_in, money_out, count in movements:
        money_in, money_out = int(money_in), int(money_out)
        month_sum += money_in - money_out
        row_count += count
        account_kind = kinds_of.get(account_id)
        if kind == LedgerKind.HOST_FEE.value and account_kind == AccountKind.HOST.value:
            host_fee_income += money_in - money_out
        if kind == LedgerKind.PROCESSOR_FEE.value and account_kind == AccountKind.PROCESSOR.value:
            processor_fees += money_in - money_out
        if account_id not in lines:
            continue
        if kind == LedgerKind.HOST_FEE.value:
            collective_host_fees += money_in - money_out
        column = "corrections" if is_refund else KIND_COLUMNS.get(kind, "corrections")
        lines[account_id].money_in[column] += money_in
        lines[account_id].money_out[column] += money_out

    ordered = list(lines.values())
    total = Line("TOTAL", "Total", opening=sum(line.opening for line in ordered))
    for line in ordered:
        line.closing = line.opening + line.total_in - line.total_out
        for column in COLUMNS:
            total.money_in[column] += line.money_in[column]
            total.money_out[column] += line.money_out[column]
    total.closing = total.opening + total.total_in - total.total_out
    report = MonthlyReport(host=host.slug, month=month, currency=host.currency, timezone=host.timezone or "UTC",
                           lines=ordered, total=total, host_fee_income=host_fee_income,
                           processor_fees=processor_fees, notes=_correction_notes(host, start, end),
                           row_count=row_count)
    reconcile(report, {lines[account_id].slug: closing.get(account_id, 0) for account_id in lines},
              month_sum=month_sum, collective_host_fees=collective_host_fees)
    return report


def reconcile(report, ledger_closing, *, month_sum, collective_host_fees):
    """Raise ReconciliationError unless opening + in - out = closing everywhere and the month balances.

    `ledger_closing` is each collective's balance at the month's end read straight from the ledger, so
    the report's arithmetic and the ledger must agree, not just the report with itself.
    """
    problems = []
    for line in report.lines:
        expected = ledger_closing.get(line.slug, 0)
        if line.closing != expected:
            problems.append(f"{line.slug}: opening {line.opening} + in {line.total_in} - out {line.total_out} "
                            f"= {line.closing}, but the ledger's closing balance is {expected}")
    if report.total.closing != sum(ledger_closing.values()):
        problems.append(f"TOTAL: closing {report.total.closing} differs from the sum of the collectives' "
                        f"closing balances {sum(ledger_closing.values())}")
    if report.total.closing != sum(line.closing for line in report.lines):
        problems.append("TOTAL: closing differs from the sum of the lines")
    if month_sum != 0:
        problems.append(f"the month's ledger rows sum to {month_sum}, not 0: a group does not balance")
    if report.host_fee_income != -collective_host_fees:
        problems.append(f"host fee income {report.host_fee_income} differs from the host fees the collectives "
                        f"paid {-collective_host_fees}")
    if problems:
        raise ReconciliationError(f"the report for {cleared.month_name(report.month)} ({report.host}) does not "
                                  "reconcile:\n" + "\n".join(problems))


def _balances(host, start, end):
    """(collective id, balance before start, balance before end) in one pass over the ledger."""
    row = LedgerTransaction
    effective = _effective()
    amount = row.amount_in_host_currency
    query = (select(row.account_id, func.sum(case((effective < start, amount), else_=0)), func.sum(amount))
             .join(Account, and_(Account.id == row.account_id, Account.kind == AccountKind.COLLECTIVE.value))
             .where(row.host_id == host.id, effective < end).group_by(row.account_id))
    return [(account_id, int(opening), int(closing)) for account_id, opening, closing in db.session.execute(query)]


def _effective():
    # Every ledger row has cleared_at (record_group refuses NULL, PostgreSQL's trigger too, and `ledger check`
    # verifies it), so the effective date is cleared_at itself: the (host_id, cleared_at) index serves a month
    # instead of a scan of the whole ledger per report.
    return LedgerTransaction.cleared_at


def _correction_notes(host, start, end):
    """One note per reversal group in the month (collective side), saying what it reverses."""
    row, original = LedgerTransaction, aliased(LedgerTransaction)
    effective = _effective()
    found = db.session.execute(
        select(row, original, Account)
        .join(original, original.id == row.refund_of_id)
        .join(Account, Account.id == row.account_id)
        .where(row.host_id == host.id, row.is_refund.is_(True), effective >= start, effective < end,
               Account.kind == AccountKind.COLLECTIVE.value)
        .order_by(row.id)).all()
    groups = defaultdict(list)
    for reversal, source, account in found:
        groups[reversal.group_id].append((reversal, source, account))
    notes = []
    for group_id, members in groups.items():
        reversal, source, account = members[0]
        source_day = source.effective_at.astimezone(cleared.zone_of(host)).date()
        source_month = source_day.strftime("%Y-%m")
        order = db.session.get(Order, source.order_id) if source.order_id else None
        what = f"contribution #{order.id}" if order else (
            f"expense #{source.expense_id}" if source.expense_id else f"group {source.group_id}")
        replaced_by = (order.data or {}).get("replaced_by_order_id") if order else None
        action = "Corrects" if replaced_by else "Reverses"
        text = (f"{action} {what} of {source_day.isoformat()} ({cleared.month_name(source_month)})"
                + (f", replaced by contribution #{replaced_by}" if replaced_by else "")
                + (f": {reversal.reason}" if reversal.reason else ""))
        notes.append(CorrectionNote(
            group_id=group_id, correction=reversal.correction or "REVERSAL", collective=account.slug,
            amount=sum(r.amount_in_host_currency for r, _, _ in members), reason=reversal.reason or "",
            corrects_group_id=source.group_id, corrects_date=source_day.isoformat(),
            corrects_month=source_month, text=text))
    return notes


@dataclass
class TrendPoint:
    """One month of the trend: the collectives' money in and out and their closing total."""

    month: str
    money_in: int
    money_out: int
    closing: int


def trend(host, month, months=12):
    """The `months` months ending with `month`, oldest first: one opening sum, then one small query a month."""
    year, number = (int(part) for part in cleared.parse_month(month).split("-"))
    labels = []
    for back in range(months - 1, -1, -1):
        index = year * 12 + number - 1 - back
        labels.append(f"{index // 12:04d}-{index % 12 + 1:02d}")
    row, amount = LedgerTransaction, LedgerTransaction.amount_in_host_currency
    collective = and_(Account.id == row.account_id, Account.kind == AccountKind.COLLECTIVE.value)
    start = cleared.month_bounds(host, labels[0])[0]
    balance = int(db.session.scalar(select(func.coalesce(func.sum(amount), 0)).join(Account, collective)
                                    .where(row.host_id == host.id, _effective() < start)))
    points = []
    for label in labels:
        first, following = cleared.month_bounds(host, label)
        money_in, money_out = (int(value) for value in db.session.execute(
            select(func.coalesce(func.sum(case((amount > 0, amount), else_=0)), 0),
                   func.coalesce(func.sum(case((amount < 0, -amount), else_=0)), 0))
            .join(Account, collective)
            .where(row.host_id == host.id, _effective() >= first, _effective() < following)).one())
        balance += money_in - money_out
        points.append(TrendPoint(label, money_in, money_out, balance))
    return points
