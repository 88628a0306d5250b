"""Creating hosts, collectives, contributors, orders and expenses (no ledger rows)."""
import re
from itertools import count
from zoneinfo import available_timezones

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.dialects import postgresql, sqlite

from hostadmin.clock import utcnow
from hostadmin.extensions import db
from hostadmin.ledger.models import (
    Account, AccountKind, Expense, ExpenseStatus, Host, Order, OrderKind, OrderStatus,
)
from hostadmin.money import MAX_MINOR_UNITS
from hostadmin.text import shorten

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


class ValidationError(ValueError):
    """Bad input for a domain object; `field` names the form field at fault."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


def slugify(text):
    """A URL-safe slug of `text` ("Open Source Club" -> "open-source-club")."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:64].strip("-") or "account"


def create_host(slug, name, currency, host_fee_bps=0, timezone="UTC"):
    """Create a host with its own HOST account; refuses a duplicate slug."""
    if timezone not in available_timezones():
        raise ValidationError(f"unknown time zone {timezone!r}: use an IANA name such as Europe/Berlin",
                              "timezone")
    if not SLUG_RE.match(slug or ""):
        raise ValidationError("slug must be lowercase letters, digits and dashes", "slug")
    if not CURRENCY_RE.match(currency or ""):
        raise ValidationError("currency must be a three-letter ISO code such as USD", "currency")
    if not (name or "").strip():
        raise ValidationError("name is required", "name")
    if db.session.scalar(select(Host).where(Host.slug == slug)):
        raise ValidationError(f"a host with slug {slug!r} already exists", "slug")
    host = Host(slug=slug, name=name.strip(), currency=currency, host_fee_bps=host_fee_bps, timezone=timezone)
    db.session.add(host)
    db.session.flush()
    db.session.add(Account(host_id=host.id, kind=AccountKind.HOST.value, slug=slug,
                           name=host.name, currency=currency))
    db.session.flush()
    return host


def create_account(host, kind, name, email=None, slug=None):
    """Create a collective, contributor or payee of the host, with a unique slug."""
    kind = AccountKind(kind)
    if not (name or "").strip():
        raise ValidationError("name is required", "name")
    if kind is AccountKind.COLLECTIVE and collective_named(host, name):
        raise ValidationError(f"this host already has a collective named {name.strip()!r}", "name")
    base = slug or slugify(name)
    values = {"host_id": host.id, "kind": kind.value, "name": name.strip(), "email": email,
              "currency": host.currency, "created_at": utcnow()}
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    for n in count(1):
        candidate = base if n == 1 else f"{base}-{n}"
        if db.session.scalar(select(Account.id).where(Account.host_id == host.id, Account.slug == candidate)):
            continue
        # The check above can be stale (another admin adding "Ada" at the same moment): the insert
        # takes the slug only if it is still free, so the loser moves on to "ada-2" instead of a 500.
        try:
            account_id = db.session.scalar(insert(Account).values(**values, slug=candidate)
                                           .on_conflict_do_nothing(index_elements=["host_id", "slug"])
                                           .returning(Account.id))
        except IntegrityError:
            # The collective-name index: someone created this name a moment ago. The transaction is spoilt;
            # every caller rolls back on a ValidationError.
            raise ValidationError(f"this host already has a collective named {values['name']!r}", "name") from None
        if account_id is not None:
            return db.session.get(Account, account_id)


def _check_not_archived(collective):
    if collective.archived_at is not None:
        raise ValidationError(f"the collective {collective.name!r} is archived: unarchive it to record money "
                              "for it", "collective")


def collective_named(host, name):
    """The host's collective called `name` (case-insensitively), or None."""
    return db.session.scalar(select(Account).where(
        Account.host_id == host.id, Account.kind == AccountKind.COLLECTIVE.value,
        func.lower(Account.name) == name.strip().lower()))


def create_order(host, *, contributor, collective, amount, kind=OrderKind.CONTRIBUTION,
                 description="", created_by=None, currency=None):
    """Create a PENDING order (an expected contribution); pay it with ledger.service."""
    _check_amount(amount)
    _check_same_host(host, contributor, collective)
    if collective.kind != AccountKind.COLLECTIVE.value:
        raise ValidationError("money can only be added to a collective", "collective")
    _check_not_archived(collective)
    order = Order(host_id=host.id, kind=OrderKind(kind).value, status=OrderStatus.PENDING.value,
                  from_account_id=contributor.id, to_account_id=collective.id, amount=amount,
                  currency=currency or host.currency,
                  description=shorten(description or "", Order.description.type.length),
                  host_fee_bps=host.host_fee_bps, created_by_id=created_by.id if created_by else None,
                  data={})
    db.session.add(order)
    db.session.flush()
    return order


def create_expense(host, *, collective, payee, amount, description="", created_by=None, currency=None):
    """Create an APPROVED expense; pay it with ledger.service.record_expense_paid."""
    _check_amount(amount)
    _check_same_host(host, collective, payee)
    _check_not_archived(collective)
    expense = Expense(host_id=host.id, collective_id=collective.id, payee_id=payee.id, amount=amount,
                      currency=currency or host.currency,
                      description=shorten(description or "", Expense.description.type.length),
                      status=ExpenseStatus.APPROVED.value,
                      created_by_id=created_by.id if created_by else None)
    db.session.add(expense)
    db.session.flush()
    return expense


def _check_amount(amount):
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= MAX_MINOR_UNITS:
        raise ValidationError(f"amount must be a positive whole number of minor units, at most {MAX_MINOR_UNITS:,}",
                              "amount")


def _check_same_host(host, *accounts):
    if any(account.host_id != host.id for account in accounts):
        raise ValidationError("accounts must belong to the host")
