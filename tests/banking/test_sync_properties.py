"""Property: any sequence of bank-side changes and syncs leaves the rows equal to the bank's truth."""
from hypothesis import HealthCheck, given, settings, strategies as st

from hostadmin.banking import connect
from hostadmin.banking.sync import run_locked_sync
from hostadmin.extensions import db
from tests.banking.helpers import active_rows, truth
from tests.factories import make_host

operations = st.lists(st.sampled_from(["add", "add_pending", "modify", "remove", "post", "sync",
                                       "sync_with_mutation"]), min_size=1, max_size=10)
index = st.integers(min_value=0, max_value=1_000)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=operations, page_size=st.integers(min_value=1, max_value=12), data=st.data())
def test_any_changes_and_syncs_converge_on_the_banks_truth(app, plaid, plaid_client, steps, page_size, data):
    app.config["SYNC_PAGE_SIZE"] = page_size
    host = make_host()
    db.session.commit()
    item = connect.sandbox_connect(host, plaid_client)
    plaid_id = item.plaid_item_id
    # The emulator's ids are random, so transactions are picked by position in these
    # lists (kept in creation order): every replay of an example draws the same way.
    posted = sorted(plaid.transactions(plaid_id))
    pending = []

    for step in steps:
        if step == "add":
            posted += plaid.add_transactions(plaid_id, count=data.draw(st.integers(1, 8)),
                                             seed=data.draw(st.integers(0, 99)), pending_share=0.0)
        elif step == "add_pending":
            pending += plaid.add_transactions(plaid_id, specs=[{
                "amount": data.draw(st.sampled_from([-20.5, 7.25, -100.0])), "date": "2026-11-18",
                "name": "Card hold", "pending": True}])
        elif step == "modify" and posted + pending:
            everything = posted + pending
            plaid.modify_transaction(everything[data.draw(index) % len(everything)],
                                     amount=data.draw(st.sampled_from([-1.5, 3.0, -42.42])))
        elif step == "remove" and posted + pending:
            everything = posted + pending
            doomed = everything[data.draw(index) % len(everything)]
            plaid.remove_transactions(doomed)
            (posted if doomed in posted else pending).remove(doomed)
        elif step == "post" and pending:
            chosen = list(dict.fromkeys(pending[i % len(pending)]
                                        for i in data.draw(st.lists(index, min_size=1, max_size=3))))
            posted += plaid.post_pending(*chosen)
            pending = [t for t in pending if t not in chosen]
        elif step == "sync":
            assert run_locked_sync(item.id, client=plaid_client)[0].outcome == "SUCCEEDED"
        elif step == "sync_with_mutation":
            plaid.force_mutation(plaid_id)
            assert run_locked_sync(item.id, client=plaid_client)[0].outcome == "SUCCEEDED"

    assert run_locked_sync(item.id, client=plaid_client)[0].outcome == "SUCCEEDED"
    db.session.expire_all()
    assert active_rows(item) == truth(plaid, item)
