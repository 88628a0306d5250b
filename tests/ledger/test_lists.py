"""Ledger lists: the host's ledger and a collective's, their filters, keyset pages, groups and reversal links."""
import re
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from hostadmin.auth.models import Role
from hostadmin.extensions import db
from hostadmin.funds import service
from hostadmin.ledger import queries
from hostadmin.ledger.filters import LedgerFilters
from hostadmin.ledger.models import LedgerKind, LedgerTransaction, Order
from hostadmin.ledger.service import Entry, record_group
from tests.factories import make_collective, make_contributor, make_host, make_user

HX = {"HX-Request": "true"}


def day(number, hour=0):
    return datetime(2026, 11, number, hour, tzinfo=timezone.utc)


@pytest.fixture
def river(app, clock):
    """Two collectives; added funds cleared on Nov 3 (rowers, 5% host fee) and Nov 10 (choir), recorded later."""
    host = make_host(slug="river", host_fee_bps=500)
    rowers, choir = make_collective(host, "River Rowers"), make_collective(host, "Town Choir")
    admin = make_user(host)
    db.session.commit()
    clock.now = day(12, 9)
    cheque = service.add_funds(host, admin, collective=rowers, amount=10000, description="Cheque from the fair",
                               contributor_name="Ann Lee", cleared_at=day(3))
    clock.now = day(14, 9)
    cash = service.add_funds(host, admin, collective=choir, amount=2500, description="Cash at the concert",
                             host_fee_bps=0, cleared_at=day(10))
    return {"host": host, "rowers": rowers, "choir": choir, "admin": admin, "cheque": cheque, "cash": cash}


def listed_ids(html):
    return [int(n) for n in re.findall(r'<tbody id="ledger-row-(\d+)"', html)]


def rows_where(**conditions):
    query = select(LedgerTransaction.id)
    for name, value in conditions.items():
        query = query.where(getattr(LedgerTransaction, name) == value)
    return set(db.session.scalars(query))


def test_host_ledger_lists_every_row_newest_effective_date_first_with_both_dates(river, client, login_as):
    login_as(river["admin"])

    response = client.get("/h/river/ledger/")

    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    ids = listed_ids(html)
    assert len(ids) == 6  # choir: funds pair; rowers: funds pair and host-fee pair
    effective = [db.session.get(LedgerTransaction, i).effective_at for i in ids]
    assert effective == sorted(effective, reverse=True)
    first = html[html.index(f'id="ledger-row-{ids[0]}"'):html.index(f'id="group-of-{ids[0]}"')]
    assert "2026-11-10" in first and "2026-11-14 09:00" in first and "Cash at the concert" in first
    assert "Town Choir" in first and "Anonymous" in first and "added funds" in first
    assert "Ann Lee" in html and "host fee" in html and "$5.00" in html and "-$100.00" in html
    assert 'href="/h/river/ledger/"' in html and 'aria-current="page">Ledger' in html


def test_dates_show_and_filter_in_the_host_time_zone_with_inclusive_ends(river, client, login_as):
    host = river["host"]
    host.timezone = "Pacific/Auckland"  # UTC+13 in November: Nov 12 09:00 UTC is Nov 12 22:00 there
    db.session.commit()
    login_as(river["admin"])
    rowers_rows = rows_where(account_id=river["rowers"].id)

    def ids(query):
        return set(listed_ids(client.get(f"/h/river/ledger/?{query}", headers=HX).get_data(as_text=True)))

    # Cleared Nov 3 00:00 UTC = Nov 3 13:00 in Auckland; recorded Nov 12 09:00 UTC = Nov 12 22:00 there.
    page = client.get("/h/river/ledger/?collective=%d" % river["rowers"].id).get_data(as_text=True)
    assert "2026-11-03" in page and "2026-11-12 22:00" in page and "Pacific/Auckland" in page
    rowers = f"collective={river['rowers'].id}"
    assert ids(f"{rowers}&from=2026-11-03&to=2026-11-03") == rowers_rows
    assert ids(f"{rowers}&to=2026-11-02") == set() and ids(f"{rowers}&from=2026-11-04") == set()
    assert ids(f"{rowers}&recorded_from=2026-11-12&recorded_to=2026-11-12") == rowers_rows
    assert ids(f"{rowers}&recorded_to=2026-11-11") == set() and ids(f"{rowers}&recorded_from=2026-11-13") == set()


def test_each_filter_narrows_the_host_ledger(river, client, login_as):
    login_as(river["admin"])
    rowers, choir = river["rowers"], river["choir"]

    def ids(query):
        response = client.get(f"/h/river/ledger/?{query}", headers=HX)
        assert response.status_code == 200
        return set(listed_ids(response.get_data(as_text=True)))

    everything = rows_where()
    assert ids("") == everything
    assert ids("kind=host_fee") == rows_where(kind="HOST_FEE")
    assert ids("type=CREDIT") == {i for i in everything if db.session.get(LedgerTransaction, i).amount > 0}
    assert ids(f"collective={choir.id}") == rows_where(account_id=choir.id)
    assert ids("min=25&max=25.00") == rows_where(order_id=river["cash"].id)
    assert ids("min=100") == rows_where(kind="ADDED_FUNDS", order_id=river["cheque"].id)
    assert ids("max=5") == rows_where(kind="HOST_FEE")
    assert ids("q=CONCERT") == rows_where(order_id=river["cash"].id)           # description, any case
    assert ids("q=ann+lee") == rows_where(order_id=river["cheque"].id, kind="ADDED_FUNDS")  # an account's name
    assert ids("q=100%25") == set()                                             # LIKE wildcards are literal
    assert ids("from=2026-11-04") == rows_where(order_id=river["cash"].id)
    assert ids("hide_corrections=1") == everything                              # nothing corrected yet
    empty = client.get("/h/river/ledger/?q=nothing+like+this", headers=HX).get_data(as_text=True)
    assert "No ledger rows match these filters." in empty


def test_reversals_link_to_what_they_reverse_and_back_and_hide_corrections_leaves_what_stands(
        river, client, login_as):
    host, admin = river["host"], river["admin"]
    corrected = service.edit_funds(host, admin, river["cheque"].id, amount=9000, reason="Miscounted")
    login_as(admin)
    originals = rows_where(order_id=river["cheque"].id, is_refund=False)
    reversal = {r.refund_of_id: r for r in db.session.scalars(
        select(LedgerTransaction).where(LedgerTransaction.is_refund.is_(True)))}
    assert set(reversal) == originals

    html = client.get("/h/river/ledger/").get_data(as_text=True)
    for original_id, row in reversal.items():
        original = db.session.get(LedgerTransaction, original_id)
        assert f'href="/h/river/ledger/groups/{original.group_id}#row-{original_id}">reverses #{original_id}<' in html
        assert f'href="/h/river/ledger/groups/{row.group_id}#row-{row.id}">reversed by #{row.id}<' in html
    assert "Miscounted" in html and ">edit</span>" in html

    standing = set(listed_ids(client.get("/h/river/ledger/?hide_corrections=1", headers=HX).get_data(as_text=True)))
    assert standing == rows_where(order_id=corrected.id) | rows_where(order_id=river["cash"].id)

    # The group page of a reversal names the group it reverses, and that one names it back.
    some = next(iter(reversal.values()))
    group = client.get(f"/h/river/ledger/groups/{some.group_id}").get_data(as_text=True)
    original_group = db.session.get(LedgerTransaction, some.refund_of_id).group_id
    assert f'href="/h/river/ledger/groups/{original_group}">reverses group' in group
    back = client.get(f"/h/river/ledger/groups/{original_group}").get_data(as_text=True)
    assert f'href="/h/river/ledger/groups/{some.group_id}">reversed by group' in back


def test_a_group_expands_as_a_fragment_with_all_its_rows_and_has_its_own_page(river, client, login_as):
    login_as(river["admin"])
    group_rows = db.session.scalars(select(LedgerTransaction).where(
        LedgerTransaction.order_id == river["cheque"].id).order_by(LedgerTransaction.id)).all()
    group_id = group_rows[0].group_id
    listing = client.get(f"/h/river/ledger/?collective={river['rowers'].id}").get_data(as_text=True)
    assert f'hx-get="/h/river/ledger/groups/{group_id}"' in listing and ">4 rows</a>" in listing

    fragment = client.get(f"/h/river/ledger/groups/{group_id}", headers=HX)
    text = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and text.lstrip().startswith('<div class="ledger-group"')
    assert "<html" not in text and "data-collapse-group" in text
    assert re.findall(r'data-row-id="(\d+)"', text) == [str(r.id) for r in group_rows]
    assert f"contribution #{river['cheque'].id}" in text

    full = client.get(f"/h/river/ledger/groups/{group_id}").get_data(as_text=True)
    assert "<html" in full and "data-collapse-group" not in full and full.count('data-row-id="') == 4

    other = make_host(slug="lake")
    lake_rows = service.add_funds(other, make_user(other), collective=make_collective(other), amount=100,
                                  description="Elsewhere", cleared_at=day(3))
    lake_group = db.session.scalar(select(LedgerTransaction.group_id).where(
        LedgerTransaction.order_id == lake_rows.id))
    assert client.get(f"/h/river/ledger/groups/{lake_group}").status_code == 404
    assert client.get("/h/river/ledger/groups/not-a-group", headers=HX).status_code == 404


def test_collective_page_lists_only_its_rows_with_the_same_filters_and_fragments(river, client, login_as):
    rowers = river["rowers"]
    login_as(river["admin"])
    url = f"/h/river/collectives/{rowers.slug}"

    page = client.get(f"{url}?at=2026-11-05").get_data(as_text=True)
    assert set(listed_ids(page)) == rows_where(account_id=rowers.id)
    assert 'id="ledger-filters"' in page and 'name="collective"' not in page

    results = client.get(f"{url}?kind=HOST_FEE", headers={**HX, "HX-Target": "ledger-results"})
    text = results.get_data(as_text=True)
    assert text.lstrip().startswith('<div id="ledger-results">')
    assert set(listed_ids(text)) == rows_where(account_id=rowers.id, kind="HOST_FEE")
    balance = client.get(f"{url}?at=2026-11-05", headers=HX).get_data(as_text=True)
    assert balance.lstrip().startswith('<div id="balance-at"')


def make_equal_rows(host, count):
    """`count` two-row groups sharing one created_at and one cleared_at (the clock is frozen)."""
    collective, giver = make_collective(host), make_contributor(host)
    for _ in range(count):
        record_group(host, [Entry(collective, giver, 100, LedgerKind.CONTRIBUTION),
                            Entry(giver, collective, -100, LedgerKind.CONTRIBUTION)],
                     currency=host.currency, cleared_at=day(5))
    db.session.commit()
    return collective


def test_keyset_pages_skip_and_repeat_nothing_when_timestamps_are_equal(any_app):
    host = make_host(slug="busy")
    make_equal_rows(host, 40)
    expected = [r.id for r in db.session.scalars(select(LedgerTransaction).order_by(LedgerTransaction.id.desc()))]
    # Plain, and with a recorded-date range (which orders by an unindexed spelling of the same key).
    for filters in (LedgerFilters(currency="USD"), LedgerFilters(recorded_from=date(2026, 11, 20), currency="USD")):
        seen, after = [], None
        while True:
            page = queries.page_of_rows(host, filters, after=after, size=7)
            seen += [row.id for row in page.rows]
            if page.next_cursor is None:
                break
            after = page.next_cursor
        assert seen == expected and len(seen) == 80


def test_show_more_walks_the_whole_ledger_page_by_page_over_http(any_app):
    host = make_host(slug="busy")
    collective = make_equal_rows(host, 60)
    admin = make_user(host)
    db.session.commit()
    client = any_app.test_client()
    client.login(admin.email, "correct horse battery")
    expected = sorted(rows_where(host_id=host.id), reverse=True)

    html = client.get("/h/busy/ledger/?kind=CONTRIBUTION").get_data(as_text=True)
    seen = listed_ids(html)
    assert len(seen) == queries.PAGE_SIZE
    while 'id="ledger-more"' in html:
        more = re.search(r'id="ledger-more".*?hx-get="([^"]+)"', html, re.S).group(1).replace("&amp;", "&")
        assert "kind=CONTRIBUTION" in more
        html = client.get(more, headers={**HX, "HX-Target": "ledger-more"}).get_data(as_text=True)
        assert "<html" not in html
        seen += listed_ids(html)
    assert seen == expected

    # The collective's page pages through its own rows the same way, keeping its balance date.
    html = client.get(f"/h/busy/collectives/{collective.slug}?at=2026-11-06").get_data(as_text=True)
    more = re.search(r'id="ledger-more".*?hx-get="([^"]+)"', html, re.S).group(1).replace("&amp;", "&")
    assert "at=2026-11-06" in more
    rest = client.get(more, headers={**HX, "HX-Target": "ledger-more"}).get_data(as_text=True)
    assert len(set(listed_ids(html)) | set(listed_ids(rest))) == 60


NASTY = ["\x00", "💥", "' OR 1=1 --", "9" * 400, "1e999999999", "-5", "2026-02-30", "%_\\", "NaN", "1,0.0.5",
         "<script>x</script>", "2026-11-20~5", "9999-12-31T23:59:59+00:00~99999999999999999999"]
PARAMS = ["q", "from", "to", "recorded_from", "recorded_to", "kind", "type", "collective", "min", "max",
          "hide_corrections", "after", "at"]


@pytest.mark.parametrize("param", PARAMS)
def test_arbitrary_text_in_any_filter_never_breaks_a_ledger_page(river, client, login_as, param):
    login_as(river["admin"])
    for value in NASTY:
        for url in ("/h/river/ledger/", f"/h/river/collectives/{river['rowers'].slug}"):
            for headers in ({}, HX, {**HX, "HX-Target": "ledger-results"}, {**HX, "HX-Target": "ledger-more"}):
                response = client.get(url, query_string={param: value}, headers=headers)
                assert response.status_code == 200, (url, param, value, headers)
    for value in NASTY:
        response = client.get(f"/h/river/ledger/groups/{value.replace('/', '')}", headers=HX)
        assert response.status_code in (404, 308, 200), value


def test_a_bad_date_or_amount_filter_is_named_and_ignored(river, client, login_as):
    login_as(river["admin"])
    html = client.get("/h/river/ledger/?from=soon&min=12.345", headers=HX).get_data(as_text=True)
    assert "“soon” is not a date (YYYY-MM-DD) (ignored)" in html
    assert "has too many decimals" in html and len(listed_ids(html)) == 6


def test_accountants_read_the_ledger_and_strangers_and_visitors_do_not(river, client, login_as):
    accountant = make_user(river["host"], role=Role.ACCOUNTANT)
    lake = make_host(slug="lake")
    stranger = make_user(lake)
    db.session.commit()
    assert client.get("/h/river/ledger/").status_code == 302  # to the login page
    login_as(accountant)
    assert client.get("/h/river/ledger/").status_code == 200
    assert client.post("/h/river/ledger/").status_code in (400, 403, 405)
    client.post_with_csrf("/logout")
    login_as(stranger)
    assert client.get("/h/river/ledger/").status_code == 404
    group_id = db.session.scalar(select(LedgerTransaction.group_id).limit(1))
    assert client.get(f"/h/river/ledger/groups/{group_id}").status_code == 404
    assert db.session.scalar(select(Order.id).where(Order.id == river["cheque"].id))
