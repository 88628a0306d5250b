"""A bank line with an absurd amount is recorded invalid on the run; the rest of the page is imported."""
from hostadmin.banking.sync import sync_item
from tests.banking.helpers import active_rows, all_rows


def test_a_transaction_beyond_the_amount_bound_is_invalid_and_the_others_import(app, db, item, plaid, plaid_client):
    small, huge, after = plaid.add_transactions(item.plaid_item_id, specs=[
        {"amount": 12.34, "date": "2026-11-10", "name": "Hardware store"},
        {"amount": -1e17, "date": "2026-11-11", "name": "Absurd deposit"},
        {"amount": -50.0, "date": "2026-11-12", "name": "Donation from Ada"},
    ])
    db.session.refresh(item)

    run = sync_item(item, plaid_client, trigger="test")

    assert run.outcome == "SUCCEEDED" and run.invalid == 1
    assert [(d["source_id"], d["reason"]) for d in run.invalid_details] == [(huge, "amount -1e+17 USD is too large")]
    assert {small, after} <= set(active_rows(item)) and huge not in active_rows(item)
    amounts = {row.source_id: row.amount for row in all_rows(item)}
    assert (amounts[small], amounts[after]) == (-1234, 5000)
