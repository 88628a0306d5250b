"""Creating hosts, accounts, orders and expenses."""
import pytest

from hostadmin.ledger import accounts
from tests.factories import make_collective, make_contributor, make_host


def test_host_gets_its_own_account_and_refuses_duplicate_slug(db):
    host = accounts.create_host("river", "River Host", "USD")
    assert [a.kind for a in host.accounts] == ["HOST"]
    with pytest.raises(accounts.ValidationError, match="already exists"):
        accounts.create_host("river", "Another", "USD")


@pytest.mark.parametrize("slug,currency,field", [("Bad Slug", "USD", "slug"), ("ok", "usd", "currency"),
                                                 ("ok", "DOLLARS", "currency")])
def test_host_input_is_validated(db, slug, currency, field):
    with pytest.raises(accounts.ValidationError) as error:
        accounts.create_host(slug, "Name", currency)
    assert error.value.field == field


def test_account_slugs_are_unique_per_host(db):
    host = make_host()
    first = accounts.create_account(host, "CONTRIBUTOR", "Open Source Club")
    second = accounts.create_account(host, "CONTRIBUTOR", "Open Source Club")
    assert (first.slug, second.slug) == ("open-source-club", "open-source-club-2")


def test_collective_names_are_unique_per_host_case_insensitively(db):
    host, other = make_host(), make_host()
    accounts.create_account(host, "COLLECTIVE", "Open Source Club")
    with pytest.raises(accounts.ValidationError, match="already has a collective") as error:
        accounts.create_account(host, "COLLECTIVE", "  open SOURCE club ")
    assert error.value.field == "name"
    assert accounts.create_account(other, "COLLECTIVE", "Open Source Club").host_id == other.id


@pytest.mark.parametrize("amount", [0, -5, 1.5, True])
def test_orders_need_a_positive_integer_amount(db, amount):
    host = make_host()
    with pytest.raises(accounts.ValidationError, match="positive whole number"):
        accounts.create_order(host, contributor=make_contributor(host), collective=make_collective(host),
                              amount=amount)


def test_money_goes_only_to_collectives(db):
    host = make_host()
    with pytest.raises(accounts.ValidationError, match="collective"):
        accounts.create_order(host, contributor=make_contributor(host), collective=make_contributor(host),
                              amount=100)
