"""Property: any sequence of bank-side changes and syncs leaves the rows equal to the bank's truth."""
from hypothesis import HealthCheck, given, settings, strategies as st

from hostadmin.banking import connect
from hostadmin.banking.sync import run_locked_sync
from hostadmin.extensions import db
from tests.banking.helpers import active_rows, truth
from tests.factories import make_host

operations = st.lists(st.sampled_from(["add", "add_pending", "modify", "remove", "post", "sync",
                                       "sync_with_mutation"]), min_size=1, max_size=10)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=operations, page_size=st.integers(min_value=1, max_value=12), data=st.data())
def test_any_changes_and_syncs_converge_on_the_banks_truth(app, plaid, plaid_client, steps, page_size, data):
    app.config["SYNC_PAGE_SIZE"] = page_size
    host = make_host()
    db.session.commit()
    item = connect.sandbox_connect(host, plaid_client)
    plaid_id = item.plaid_item_id

    for step in steps:
        current = plaid.transactions(plaid_id)
        if step == "add":
            plaid.add_transactions(plaid_id, count=data.draw(st.integers(1, 8)), seed=data.draw(st.integers(0, 99)),
                                   pending_share=0.0)
        elif step == "add_pending":
            plaid.add_transactions(plaid_id, specs=[{"amount": data.draw(st.sampled_from([-20.5, 7.25, -100.0])),
                                                     "date": "2026-11-18", "name": "Card hold",
                                                     "pending": True}])
        elif step == "modify" and current:
            target = data.draw(st.sampled_from(sorted(current)))
            plaid.modify_transaction(target, amount=data.draw(st.sampled_from([-1.5, 3.0, -42.42])))
        elif step == "remove" and current:
            plaid.remove_transactions(data.draw(st.sampled_from(sorted(current))))
        elif step == "post":
            pending = sorted(t for t, body in current.items() if body["pending"])
            if pending:
                plaid.post_pending(*data.draw(st.lists(st.sampled_from(pending), min_size=1, max_size=3,
                                                       unique=True)))
        elif step == "sync":
            assert run_locked_sync(item.id, client=plaid_client)[0].outcome == "SUCCEEDED"
        elif step == "sync_with_mutation":
            plaid.force_mutation(plaid_id)
            assert run_locked_sync(item.id, client=plaid_client)[0].outcome == "SUCCEEDED"

    assert run_locked_sync(item.id, client=plaid_client)[0].outcome == "SUCCEEDED"
    db.session.expire_all()
    assert active_rows(item) == truth(plaid, item)
