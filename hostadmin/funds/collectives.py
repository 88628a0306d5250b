"""Collectives: creating one under a chosen slug, and balances by effective date."""
from dataclasses import dataclass

from sqlalchemy import and_, func, select

from hostadmin.extensions import db
from hostadmin.funds import cleared
from hostadmin.ledger.accounts import SLUG_RE, ValidationError, create_account
from hostadmin.ledger.models import Account, AccountKind, LedgerTransaction
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

