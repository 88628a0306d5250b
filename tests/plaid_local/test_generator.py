"""Seeded realism and the busy-host generator."""
import json
from datetime import date

from hostadmin.plaid_local import generator


def test_same_seed_same_data_apart_from_ids(server):
    one = server.create_item(seed=7)
    two = server.create_item(seed=7)

    def shape(item_id):
        return sorted((t["date"], t["amount"], t["name"], t["pending"])
                      for t in server.transactions(item_id).values())
    assert shape(one.item_id) == shape(two.item_id)


def test_history_is_a_realistic_mix(server):
    item = server.create_item(seed=1, days_requested=365)
    txns = list(server.transactions(item.item_id).values())
    months = {t["date"][:7] for t in txns}
    assert len(months) >= 10
    assert any(t["amount"] < 0 for t in txns) and any(t["amount"] > 0 for t in txns)
    assert any(t["pending"] for t in txns) and any(t["merchant_name"] for t in txns)
    assert {t["account_id"] for t in txns} == {a["account_id"]
                                               for a in server.emulator.accounts(item.item_id)}


def test_busy_history_spans_the_period_oldest_first():
    import random
    accounts = [{"account_id": "a", "type": "depository", "subtype": "checking"}]
    txns = generator.busy_history(random.Random(1), accounts, date(2026, 3, 1), 1000, days=730)
    assert txns[0]["date"] == "2024-03-01" and txns[-1]["date"] <= "2026-03-01"
    assert [t["date"] for t in txns] == sorted(t["date"] for t in txns)
    assert len({t["transaction_id"] for t in txns}) == 1000


def test_busy_host_bulk_item_syncs(api, server):
    from .helpers import sync_all
    item = server.busy_host(3000)
    added, _, _, _, pages = sync_all(api, item.access_token)
    assert len(added) == 3000 and len(pages) == 6
    assert json.loads(json.dumps(added[0]))["amount"] == added[0]["amount"]
