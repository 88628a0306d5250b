"""Balances and the zero-sum check add up exactly, past 64 bits, and the check finds every unbalanced group.

Rows are written here past record_group on purpose (SQLite only: PostgreSQL's triggers refuse such rows), as a
bug, a legacy row from before amounts were bounded, or a hand-written INSERT could have left them.
"""
from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from hostadmin.extensions import db as database
from hostadmin.ledger import service as ledger
from tests.factories import make_collective, make_contributor, make_host

WHEN = datetime(2026, 11, 2, tzinfo=timezone.utc)


@pytest.fixture
def raw(db):
    if database.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's triggers refuse rows written past record_group")
    host = make_host()
    accounts = {"a": make_collective(host), "b": make_contributor(host)}
    database.session.commit()

    def write(group, account, amount, in_host_currency=None, currency="USD"):
        database.session.execute(text(
            "INSERT INTO ledger_transactions (host_id, group_id, kind, type, account_id, counterparty_id,"
            " amount, currency, amount_in_host_currency, host_currency, description, is_refund, created_at,"
            " cleared_at) VALUES (:host, :group, 'ADDED_FUNDS', 'CREDIT', :account, :account, :amount, :currency,"
            " :host_amount, 'USD', '', 0, :now, :now)"),
            {"host": host.id, "group": group, "account": accounts[account].id, "amount": amount,
             "currency": currency, "host_amount": amount if in_host_currency is None else in_host_currency,
             "now": WHEN})
        database.session.commit()

    write.host, write.accounts = host, accounts
    yield write
    database.session.execute(text("DELETE FROM ledger_transactions"))  # SQLite only: no trigger there
    database.session.commit()


def balance(raw, account):
    return ledger.balances(raw.host)[raw.accounts[account].id]


def test_parts_that_carry_over_a_billion_still_add_up_exactly(raw):
    raw("g", "a", 1_500_000_000)
    raw("g", "a", 1_500_000_000)
    raw("g", "b", -3_000_000_000)
    assert balance(raw, "a") == 3_000_000_000 and balance(raw, "b") == -3_000_000_000


def test_negative_amounts_that_are_not_whole_billions_add_up_exactly(raw):
    raw("g", "a", -1_234_567_891_234)
    raw("g", "a", -999_999_999)
    raw("g", "b", 1_235_567_891_233)
    assert balance(raw, "a") == -1_235_567_891_233


def test_a_balance_beyond_64_bits_is_read_not_an_overflow(raw):
    # Two legacy rows of 2**62 each: their sum, 2**63, does not fit a BIGINT; the dashboard must still load.
    raw("g", "a", 2**62)
    raw("g", "a", 2**62)
    raw("g", "b", -(2**62))
    raw("g", "b", -(2**62))
    assert balance(raw, "a") == 2**63 and balance(raw, "b") == -(2**63)
    assert ledger.unbalanced_groups() == []


@pytest.mark.parametrize("amounts", [(101, -100), (100, -101), (2_000_000_000, -1_000_000_000),
                                     (1_000_000_001, -1), (2**62, 2**62)])
def test_every_unbalanced_group_is_found(raw, amounts):
    for amount in amounts:
        raw("broken", "a", amount)
    raw("fine", "a", 5)
    raw("fine", "b", -5)
    assert ledger.unbalanced_groups() == ["broken"]


def test_a_balanced_group_whose_parts_do_not_cancel_one_by_one_is_not_reported(raw):
    # 600,000,000 + 600,000,000 - 1,200,000,000: the high parts sum to -1, the low parts to +1,000,000,000.
    raw("g", "a", 600_000_000)
    raw("g", "a", 600_000_000)
    raw("g", "b", -1_200_000_000)
    assert ledger.unbalanced_groups() == []


def test_a_group_balanced_in_the_host_currency_but_not_in_its_own_is_found(raw):
    raw("fx", "a", 1000, in_host_currency=1100, currency="EUR")
    raw("fx", "b", -999, in_host_currency=-1100, currency="EUR")
    assert ledger.unbalanced_groups() == ["fx"]


def test_a_group_balanced_in_its_own_currency_but_not_in_the_host_currency_is_found(raw):
    raw("fx", "a", 1000, in_host_currency=1100, currency="EUR")
    raw("fx", "b", -1000, in_host_currency=-1099, currency="EUR")
    assert ledger.unbalanced_groups() == ["fx"]


def test_two_hundred_legacy_rows_of_2_62_still_add_up(raw):
    # Each part of the split must stay far below 64 bits even summed over many rows: the high parts of 200
    # rows of 2**62 overflow a BIGINT if the split is too fine (say by 90), never at a billion.
    for _ in range(200):
        raw("g", "a", 2**62)
        raw("g", "b", -(2**62))
    assert balance(raw, "a") == 200 * 2**62 and balance(raw, "b") == -200 * 2**62
