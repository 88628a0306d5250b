"""Factory functions for domain objects (flush, not commit)."""
from itertools import count

from hostadmin.auth.models import Role
from hostadmin.auth.service import create_user
from hostadmin.ledger import accounts
from hostadmin.ledger.models import AccountKind

_serial = count(1)
PASSWORD = "correct horse battery"


def make_host(slug=None, name=None, currency="USD", host_fee_bps=0):
    n = next(_serial)
    return accounts.create_host(slug or f"host-{n}", name or f"Host {n}", currency, host_fee_bps=host_fee_bps)


def make_user(host, role=Role.ADMIN, email=None):
    n = next(_serial)
    return create_user(email or f"user{n}@example.org", PASSWORD, host.slug, role)


def make_collective(host, name=None):
    return accounts.create_account(host, AccountKind.COLLECTIVE, name or f"Collective {next(_serial)}")


def make_contributor(host, name=None):
    n = next(_serial)
    return accounts.create_account(host, AccountKind.CONTRIBUTOR, name or f"Contributor {n}",
                                   email=f"giver{n}@example.com")


def make_payee(host, name=None):
    return accounts.create_account(host, AccountKind.PAYEE, name or f"Payee {next(_serial)}")
