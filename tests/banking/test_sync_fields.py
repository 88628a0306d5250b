"""The whole sync, emulator to import rows, with what real Plaid sends: other currencies, omitted fields."""
from datetime import date

from sqlalchemy import select

from hostadmin.banking.models import BankAccount
from tests.banking.helpers import all_rows, truth
from tests.banking.test_sync import sync


def rows_by_id(item):
    return {row.source_id: row for row in all_rows(item)}


def test_yen_and_dinar_transactions_are_stored_in_their_own_minor_units(app, item, plaid, plaid_client):
    yen_out, dinar_in, dollars_in = plaid.add_transactions(item.plaid_item_id, specs=[
        {"amount": 1234, "iso_currency_code": "JPY", "date": "2026-11-10", "name": "Tokyo hotel"},
        {"amount": -1.234, "iso_currency_code": "KWD", "date": "2026-11-11", "name": "Gift from Kuwait"},
        {"amount": -12.5, "date": "2026-11-12", "name": "Gift"},
    ])

    run = sync(item, plaid_client)

    rows = rows_by_id(item)
    assert run.outcome == "SUCCEEDED" and run.invalid == 0
    assert (rows[yen_out].amount, rows[yen_out].currency) == (-1234, "JPY")
    assert (rows[dinar_in].amount, rows[dinar_in].currency) == (1234, "KWD")
    assert (rows[dollars_in].amount, rows[dollars_in].currency) == (1250, "USD")
    assert {tid: amount for tid, (amount, _) in truth(plaid, item).items()} == \
        {source_id: row.amount for source_id, row in rows.items()}


def test_a_transaction_in_another_currency_than_its_account_keeps_its_own(app, db, item, plaid, plaid_client):
    euros = plaid.add_transactions(item.plaid_item_id, specs=[
        {"amount": -20.0, "iso_currency_code": "EUR", "date": "2026-11-10", "name": "Paris gift"}])[0]

    sync(item, plaid_client)

    row = rows_by_id(item)[euros]
    account = db.session.get(BankAccount, row.bank_account_id)
    assert (row.amount, row.currency, account.currency) == (2000, "EUR", "USD")


def test_an_unofficial_currency_is_used_only_when_there_is_no_iso_code(app, item, plaid, plaid_client):
    coins = plaid.add_transactions(item.plaid_item_id, specs=[
        {"amount": -3.0, "unofficial_currency_code": "BTC", "date": "2026-11-10", "name": "Coin gift"}])[0]
    assert plaid.transactions(item.plaid_item_id)[coins]["iso_currency_code"] is None

    sync(item, plaid_client)

    assert rows_by_id(item)[coins].currency == "BTC"


def test_a_transaction_without_currency_codes_takes_its_accounts(app, item, plaid, plaid_client):
    bare = plaid.add_transactions(item.plaid_item_id, specs=[
        {"amount": -7.0, "date": "2026-11-10", "name": "Cash deposit",
         "omit": ["iso_currency_code", "unofficial_currency_code"]}])[0]

    run = sync(item, plaid_client)

    assert run.outcome == "SUCCEEDED"
    assert (rows_by_id(item)[bare].amount, rows_by_id(item)[bare].currency) == (700, "USD")


def test_omitted_optional_fields_sync_as_empty(app, item, plaid, plaid_client):
    bare, merchant_only = plaid.add_transactions(item.plaid_item_id, specs=[
        {"amount": 4.0, "date": "2026-11-10", "name": "Parking",
         "omit": ["merchant_name", "pending_transaction_id", "authorized_date"]},
        {"amount": 9.0, "date": "2026-11-11", "merchant_name": "ACME", "omit": ["name"]},
    ])
    wire = plaid.transactions(item.plaid_item_id)
    assert "merchant_name" not in wire[bare] and "name" not in wire[merchant_only]

    run = sync(item, plaid_client)

    rows = rows_by_id(item)
    assert run.outcome == "SUCCEEDED" and run.invalid == 0
    assert (rows[bare].merchant_name, rows[bare].pending_source_id, rows[bare].authorized_date) == \
        (None, None, None)
    assert (rows[bare].description, rows[bare].amount) == ("Parking", -400)
    assert (rows[merchant_only].description, rows[merchant_only].merchant_name) == ("ACME", "ACME")


def test_the_rows_date_is_the_posted_date_and_the_authorised_date_is_kept_beside_it(app, item, plaid,
                                                                                    plaid_client):
    tid = plaid.add_transactions(item.plaid_item_id, specs=[
        {"amount": -30.0, "date": "2026-11-12", "authorized_date": "2026-11-09", "name": "Cheque"}])[0]

    sync(item, plaid_client)

    row = rows_by_id(item)[tid]
    assert (row.date, row.authorized_date) == (date(2026, 11, 12), date(2026, 11, 9))


def test_a_yen_amount_with_decimals_is_recorded_invalid_not_rounded(app, item, plaid, plaid_client):
    odd, fine = plaid.add_transactions(item.plaid_item_id, specs=[
        {"amount": 12.5, "iso_currency_code": "JPY", "date": "2026-11-10", "name": "Half a yen"},
        {"amount": 0.015, "iso_currency_code": "KWD", "date": "2026-11-10", "name": "Fifteen fils"},
    ])

    run = sync(item, plaid_client)

    rows = rows_by_id(item)
    assert odd not in rows and rows[fine].amount == -15
    assert run.invalid == 1 and [(d["source_id"], d["reason"]) for d in run.invalid_details] == [
        (odd, "amount 12.5 JPY has too many decimals: JPY amounts have no decimals")]


def test_an_account_shared_later_without_a_persistent_id_is_added_without_one(app, db, item, plaid,
                                                                               plaid_client):
    new = plaid.new_account(item.plaid_item_id)
    plaid.share_accounts(item.plaid_item_id, new)
    plaid.add_transactions(item.plaid_item_id, specs=[
        {"amount": -2.0, "date": "2026-11-10", "name": "Into the new account", "account_id": new}])

    sync(item, plaid_client)

    account = db.session.scalar(select(BankAccount).where(BankAccount.plaid_account_id == new))
    assert (account.persistent_account_id, account.currency) == (None, "USD")
