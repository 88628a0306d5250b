"""Every filtered list offers "Clear filters" (a plain link back to the list), and only while filtered."""
import re

import pytest

from tests.factories import make_collective, make_host, make_import, make_user

HX = {"HX-Request": "true"}

# (list path, a filter that narrows it, where "Clear filters" leads)
LISTS = [
    ("/h/river/imports/rows", "q=rent", "/h/river/imports/rows"),
    ("/h/river/imports/rows", "status=IGNORED&dir=in", "/h/river/imports/rows?status=IGNORED"),
    ("/h/river/ledger/", "kind=EXPENSE", "/h/river/ledger/"),
    ("/h/river/collectives/rowers", "q=grant", "/h/river/collectives/rowers"),
    ("/h/river/contributions/", "party=ada", "/h/river/contributions/"),
    ("/h/river/expenses/", "status=APPROVED", "/h/river/expenses/"),
    ("/h/river/webhooks/", "outcome=IGNORED", "/h/river/webhooks/"),
    ("/h/river/reports/audit", "action=funds", "/h/river/reports/audit"),
    ("/h/river/funds/revert", "q=grant", "/h/river/funds/revert"),
]


@pytest.fixture
def admin(db):
    host = make_host(slug="river")
    make_collective(host, "Rowers")
    make_import(host, "Checking")
    user = make_user(host)
    db.session.commit()
    return user


def clear_link(html):
    found = re.findall(r'<a href="([^"]*)" data-clear-filters>Clear filters</a>', html)
    return found[0].replace("&amp;", "&") if found else None


@pytest.mark.parametrize("path,query,target", LISTS)
def test_a_filtered_list_links_to_itself_without_its_filters(client, login_as, admin, path, query, target):
    login_as(admin)
    unfiltered = client.get(path)
    assert unfiltered.status_code == 200 and clear_link(unfiltered.get_data(as_text=True)) is None
    filtered = client.get(f"{path}?{query}")
    assert filtered.status_code == 200 and clear_link(filtered.get_data(as_text=True)) == target
    assert client.get(target).status_code == 200


@pytest.mark.parametrize("path,query,target", [entry for entry in LISTS if "revert" not in entry[0]])
def test_the_list_fragment_htmx_swaps_in_carries_the_link_too(client, login_as, admin, path, query, target):
    login_as(admin)
    # A collective's page answers the ledger list for the list's own target (its balance box otherwise).
    headers = {**HX, "HX-Target": "ledger-results"} if "collectives" in path else HX
    fragment = client.get(f"{path}?{query}", headers=headers).get_data(as_text=True)
    assert "<html" not in fragment and clear_link(fragment) == target
