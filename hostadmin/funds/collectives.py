"""Collectives: creating one under a chosen slug, renaming and archiving it, and balances by effective date."""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, func, select, update
from sqlalchemy.exc import IntegrityError

from hostadmin.audit import service as audit
from hostadmin.clock import utcnow
from hostadmin.extensions import db
from hostadmin.funds import cleared, versions
from hostadmin.ledger.accounts import SLUG_RE, ValidationError, collective_named, create_account
from hostadmin.ledger.models import (
    Account, AccountKind, Expense, ExpenseStatus, LedgerTransaction, Order, OrderStatus,
)
from hostadmin.money import major_units
from hostadmin.text import clean_line


@dataclass(frozen=True)
class Balance:
    account: Account
    balance: int  # host-currency minor units
    currency: str


def create_collective(host, slug, name):
    """Create a collective with exactly `slug` (refused if taken) and a name unique on the host; commit."""
    name = clean_line(name or "", 200).strip()
    if not SLUG_RE.match(slug or ""):
        raise ValidationError("slug must be lowercase letters, digits and dashes", "slug")
    if db.session.scalar(select(Account.id).where(Account.host_id == host.id, Account.slug == slug)):
        raise ValidationError(f"the slug {slug!r} is already used on this host", "slug")
    try:
        collective = create_account(host, AccountKind.COLLECTIVE, name, slug=slug)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return collective


def collective_by_slug(host, slug):
    """The host's collective with `slug`, or a ValidationError naming it."""
    collective = db.session.scalar(select(Account).where(
        Account.host_id == host.id, Account.slug == slug, Account.kind == AccountKind.COLLECTIVE.value))
    if collective is None:
        raise ValidationError(f"no collective {slug!r} on host {host.slug}", "collective")
    return collective


def balances_at(host, day=None, account_ids=None):
    """Each collective's balance by effective date (cleared_at, else created_at) up to the end of `day`
    in the host's time zone (default today), by slug."""
    end = cleared.end_of_day(host, day or cleared.today(host))
    row = LedgerTransaction
    effective = func.coalesce(row.cleared_at, row.created_at)
    query = (select(Account, func.coalesce(func.sum(row.amount_in_host_currency), 0))
             .outerjoin(row, and_(row.account_id == Account.id, effective < end))
             .where(Account.host_id == host.id, Account.kind == AccountKind.COLLECTIVE.value)
             .group_by(Account.id).order_by(Account.slug))
    if account_ids is not None:
        query = query.where(Account.id.in_(account_ids))
    return [Balance(account, int(total), host.currency) for account, total in db.session.execute(query)]


def collectives_of(host):
    """The host's collectives by name."""
    return db.session.scalars(select(Account).where(
        Account.host_id == host.id, Account.kind == AccountKind.COLLECTIVE.value).order_by(Account.name)).all()



def open_collectives_of(host):
    """The host's collectives that take new money (not archived), by name: what the pickers offer."""
    return [c for c in collectives_of(host) if c.archived_at is None]


# --------------------------------------------------------------------------- rename and archive

def rename(host, user, collective, name, seen_version=None):
    """Give a collective a new name, unique on the host in any case; audited; commit.

    `seen_version` is the version the rename form showed: a rename based on an older page is refused
    (versions.StaleVersion), so two admins never overwrite each other's change.
    """
    name = clean_line(name or "", 200).strip()
    try:
        collective = _locked(host, collective, seen_version)
        if not name:
            raise ValidationError("give the collective a name", "name")
        other = collective_named(host, name)
        if other is not None and other.id != collective.id:
            raise ValidationError(f"this host already has a collective named {other.name!r}", "name")
        if name == collective.name:
            raise ValidationError(f"the collective is already called {name!r}", "name")
        before = collective.name
        collective.name = name
        _flush_unique(name)
        audit.record(host, user, "collective.rename", collective, before={"name": before}, after={"name": name})
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return collective


def archive(host, user, collective, seen_version=None):
    """Archive a collective: its page and history stay, it takes no new money; audited; commit.

    Refused while it holds money (its balance must be zero, as Open Collective asks) or has expected
    contributions or unpaid expenses, which would otherwise be stranded.
    """
    try:
        collective = _locked(host, collective, seen_version)
        if collective.archived_at is not None:
            raise ValidationError(f"{collective.name!r} is already archived", "archive")
        blockers = _archive_blockers(host, collective)
        if blockers:
            raise ValidationError(f"{collective.name!r} cannot be archived while it has "
                                  f"{' and '.join(blockers)}", "archive")
        collective.archived_at = utcnow()
        db.session.flush()
        audit.record(host, user, "collective.archive", collective, after={"archived_at": collective.archived_at.isoformat()})
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return collective


def unarchive(host, user, collective, seen_version=None):
    """Bring an archived collective back: it takes money again; audited; commit."""
    try:
        collective = _locked(host, collective, seen_version)
        if collective.archived_at is None:
            raise ValidationError(f"{collective.name!r} is not archived", "archive")
        before = collective.archived_at.isoformat()
        collective.archived_at = None
        db.session.flush()
        audit.record(host, user, "collective.unarchive", collective, before={"archived_at": before})
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return collective


def _locked(host, collective, seen_version):
    """The host's collective, locked for this transaction, refused if it moved past `seen_version`.

    The no-op conditional UPDATE takes SQLite's write lock before anything is read (FOR UPDATE locks
    nothing there); on PostgreSQL FOR UPDATE locks the row. Either way the version check and the write
    are not separated by anyone else's save.
    """
    if collective is None or collective.host_id != host.id or collective.kind != AccountKind.COLLECTIVE.value:
        raise ValidationError("choose one of the host's collectives", "collective")
    db.session.execute(update(Account).where(Account.id == collective.id).values(version=Account.version)
                       .execution_options(synchronize_session=False))
    collective = db.session.scalars(select(Account).where(Account.id == collective.id).with_for_update()
                                    .execution_options(populate_existing=True)).one()
    versions.check(collective, seen_version, f"the collective {collective.name!r}")
    return collective


def _flush_unique(name):
    """Flush a new name; the unique index decides a race the check before it could not see."""
    try:
        db.session.flush()
    except IntegrityError:  # the caller rolls back
        raise ValidationError(f"this host already has a collective named {name!r}", "name") from None


def _archive_blockers(host, collective):
    balance = balances_at(host, date.max, account_ids=[collective.id])[0].balance
    open_orders = db.session.scalar(select(func.count(Order.id)).where(
        Order.to_account_id == collective.id, Order.status == OrderStatus.PENDING.value))
    unpaid = db.session.scalar(select(func.count(Expense.id)).where(
        Expense.collective_id == collective.id,
        Expense.status.in_([ExpenseStatus.PENDING.value, ExpenseStatus.APPROVED.value])))
    blockers = []
    if balance:
        blockers.append(f"a balance of {major_units(balance, host.currency)} {host.currency} "
                        "(pay it out or move it first)")
    if open_orders:
        blockers.append(f"{open_orders} expected contribution{'s' * (open_orders != 1)}")
    if unpaid:
        blockers.append(f"{unpaid} unpaid expense{'s' * (unpaid != 1)}")
    return blockers
