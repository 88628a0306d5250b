"""Expenses: record (PENDING), approve, mark paid with the date the money left the account, reject; list them.

APPROVED is what triage links a bank withdrawal to. Each action commits or rolls back; refusals raise
RecordError and write nothing.
"""
from sqlalchemy import select

from hostadmin.audit import service as audit
from hostadmin.clock import utcnow
from hostadmin.extensions import db
from hostadmin.funds import cleared, records, versions
from hostadmin.funds.records import RecordError
from hostadmin.imports.models import ImportRow
from hostadmin.ledger import accounts as ledger_accounts
from hostadmin.ledger import service as ledger
from hostadmin.ledger.accounts import ValidationError
from hostadmin.ledger.models import AccountKind, Expense, ExpenseStatus, LedgerTransaction
from hostadmin.text import clean_line, clean_text

STATUSES = tuple(status.value for status in ExpenseStatus)
STATUS_WORDS = {"PENDING": "awaiting approval", "APPROVED": "approved", "PAID": "paid", "REJECTED": "rejected"}


def record_expense(host, user, *, collective, payee_name, amount, description, incurred_on=None):
    """Record an expense awaiting approval; the payee is found by name (any case) or created."""
    try:
        collective = records.collective_of(host, collective)
        description = clean_line(description or "", 500).strip()
        if not description:
            raise ValidationError("describe the expense", "description")
        incurred_on = incurred_on or cleared.today(host)
        if incurred_on > cleared.today(host):
            raise ValidationError(f"the date incurred cannot be in the future ({incurred_on.isoformat()} is "
                                  f"after today, {cleared.today(host).isoformat()})", "incurred_on")
        payee = records.party(host, AccountKind.PAYEE, payee_name, field_name="payee")
        expense = ledger_accounts.create_expense(host, collective=collective, payee=payee, amount=amount,
                                                 description=description, created_by=user)
        expense.status, expense.incurred_on = ExpenseStatus.PENDING.value, incurred_on
        db.session.flush()
        audit.record(host, user, "expense.create", expense, after=snapshot(expense))
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        _refuse(error)
    return expense


def approve(host, user, expense_id, seen_version=None):
    """Approve an expense awaiting approval: it may now be paid (or linked to a bank withdrawal).

    Here and below, `seen_version` is the version the page showed (None: not checked); an action based on
    a page someone else's change made stale raises versions.StaleVersion and writes nothing.
    """
    return _move(host, user, expense_id, "expense.approve", {ExpenseStatus.PENDING.value},
                 ExpenseStatus.APPROVED.value, seen_version=seen_version)


def reject(host, user, expense_id, *, reason, seen_version=None):
    """Reject an expense that is not paid; the reason is required and kept."""
    reason = clean_text(reason or "", 2000).strip()
    if not reason:
        raise RecordError("say why the expense is rejected: a reason is required")
    return _move(host, user, expense_id, "expense.reject",
                 {ExpenseStatus.PENDING.value, ExpenseStatus.APPROVED.value}, ExpenseStatus.REJECTED.value,
                 reason=reason, seen_version=seen_version)


def mark_paid(host, user, expense_id, *, cleared_at, seen_version=None):
    """Mark an approved expense paid: its ledger group written with `cleared_at` (the money left the account)."""
    try:
        expense, claimed = records.claim(Expense, host, expense_id, "expense", [ExpenseStatus.APPROVED.value])
        versions.check(expense, seen_version, f"expense #{expense.id}")
        if not claimed:
            raise RecordError(f"expense #{expense.id} is {STATUS_WORDS[expense.status]}: only an approved "
                              f"expense can be marked paid")
        before = snapshot(expense)
        group = ledger.record_expense_paid(expense, cleared_at=cleared_at, created_by=user)
        audit.record(host, user, "expense.pay", expense, before=before, after=snapshot(expense),
                     data={"group_id": group[0].group_id, "cleared_at": cleared_at.isoformat()})
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        _refuse(error)
    return expense


def snapshot(expense):
    """The fields shown in the audit log."""
    return {"status": expense.status, "amount": expense.amount, "currency": expense.currency,
            "collective": expense.collective.slug, "payee": expense.payee.name,
            "description": expense.description,
            "incurred_on": expense.incurred_on.isoformat() if expense.incurred_on else None,
            "paid_at": expense.paid_at.isoformat() if expense.paid_at else None}


def page(host, filters, after=None):
    """(expenses, next cursor) of the host's expenses matching `filters`, newest first."""
    query = records.filtered(host, Expense, select(Expense), filters, collective_column=Expense.collective_id,
                             party_column=Expense.payee_id)
    return records.keyset_page(Expense, query, after)


def details(host, expense):
    """What an expense's page shows: its ledger groups and bank lines."""
    return {"groups": records.ledger_groups(host, LedgerTransaction.expense_id, expense.id),
            "bank_lines": records.bank_lines(host, ImportRow.expense_id, expense.id)}


def _move(host, user, expense_id, action, allowed, target, reason=None, seen_version=None):
    try:
        expense, claimed = records.claim(Expense, host, expense_id, "expense", sorted(allowed))
        versions.check(expense, seen_version, f"expense #{expense.id}")
        if not claimed:
            verb = {"APPROVED": "approved", "REJECTED": "rejected"}[target]
            raise RecordError(f"expense #{expense.id} is {STATUS_WORDS[expense.status]}: it cannot be {verb}")
        before = snapshot(expense)
        expense.status = target
        if reason is not None:
            expense.reject_reason = reason
        db.session.flush()
        audit.record(host, user, action, expense, before=before, after=snapshot(expense),
                     data={"reason": reason, "at": utcnow().isoformat()} if reason else None)
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        _refuse(error)
    return expense


def _refuse(error):
    if isinstance(error, RecordError):
        raise error
    if isinstance(error, (ledger.LedgerError, ValidationError)):
        raise RecordError(str(error)) from error
    raise error
