"""The dashboard: collectives, balances, adding a collective."""
from hostadmin.ledger import accounts, service as ledger
from tests.factories import make_collective, make_contributor, make_host, make_user


def test_dashboard_shows_each_collectives_balance(db, client, login_as, clock):
    host = make_host(slug="river", host_fee_bps=1000)
    rowers, donor = make_collective(host, "River Rowers"), make_contributor(host)
    make_collective(host, "Empty Collective")
    order = accounts.create_order(host, contributor=donor, collective=rowers, amount=123456)
    ledger.record_order_paid(order, cleared_at=clock.now)
    user = make_user(host)
    db.session.commit()

    html = login_as(user).get("/h/river/").get_data(as_text=True)

    assert "River Rowers" in html and "$1,111.10" in html  # 1,234.56 less a 10% fee
    assert "Empty Collective" in html and "$0.00" in html
    assert "$123.46" in html  # host fees


def test_adding_a_collective_without_a_name_shows_the_error_by_the_field(db, client, login_as):
    host = make_host(slug="river")
    user = make_user(host)
    db.session.commit()
    login_as(user)

    response = client.post_with_csrf("/h/river/collectives", {"name": "  "})

    assert response.status_code == 400
    assert "Give the collective a name." in response.get_data(as_text=True)


def test_adding_a_collective_whose_name_is_taken_in_another_case_shows_the_error_by_the_field(db, client,
                                                                                              login_as):
    host = make_host(slug="river")
    make_collective(host, "River Rowers")
    user = make_user(host)
    db.session.commit()
    login_as(user)

    response = client.post_with_csrf("/h/river/collectives", {"name": "river rowers"})

    assert response.status_code == 400
    assert "this host already has a collective named &#39;river rowers&#39;" in response.get_data(as_text=True)


def todo_world(db, clock):
    """A host with rows to triage, a bank whose login broke, one with new accounts, and money this month."""
    from datetime import datetime, timedelta, timezone

    from hostadmin.auth.models import Role
    from tests.factories import make_bank_account, make_import, make_import_row, make_payee

    host = make_host(slug="river")
    rowers = make_collective(host, "River Rowers")
    broken, fresh = make_bank_account(host, "Checking"), make_bank_account(host, "Savings")
    broken.item.status, broken.item.institution_name = "LOGIN_REQUIRED", "Broken Bank"
    fresh.item.new_accounts_available, fresh.item.institution_name = True, "Fresh Bank"
    fresh.item.last_synced_at = clock.now - timedelta(hours=3)
    imp = make_import(host, "Checking", bank_account=broken)
    for amount in (1000, 2000, 3000):
        make_import_row(imp, amount=amount, bank_account=broken)
    make_import_row(imp, amount=5, status="IGNORED")
    order = accounts.create_order(host, contributor=make_contributor(host), collective=rowers, amount=50000)
    ledger.record_order_paid(order, cleared_at=clock.now)
    old = accounts.create_order(host, contributor=make_contributor(host), collective=rowers, amount=70000)
    ledger.record_order_paid(old, cleared_at=datetime(2026, 10, 15, tzinfo=timezone.utc))  # last month
    expense = accounts.create_expense(host, collective=rowers, payee=make_payee(host), amount=12000)
    ledger.record_expense_paid(expense, cleared_at=clock.now)
    people = {"admin": make_user(host), "accountant": make_user(host, Role.ACCOUNTANT)}
    db.session.commit()
    return {"host": host, "broken": broken, "fresh": fresh, "rowers": rowers, **people}


def test_dashboard_says_what_to_do_with_a_link_for_each(db, client, login_as, clock):
    world = todo_world(db, clock)
    html = login_as(world["admin"]).get("/h/river/").get_data(as_text=True)
    todo = html.split('id="todo"')[1].split("</ul>")[0]

    assert '<li data-todo="triage"><a href="/h/river/imports/rows">3 bank rows to triage</a></li>' in todo
    assert "Broken Bank needs you to sign in again" in todo
    assert f'href="/h/river/connections/{world["broken"].item.id}">Reconnect</a>' in todo
    assert "New accounts available at Fresh Bank." in todo
    assert f'href="/h/river/connections/{world["fresh"].item.id}/accounts">Choose accounts</a>' in todo
    # The banner above every page stays too.
    assert 'data-banner="LOGIN_REQUIRED"' in html.split('id="todo"')[0]


def test_dashboard_shows_each_banks_last_sync_and_this_months_money(db, client, login_as, clock):
    world = todo_world(db, clock)
    html = login_as(world["admin"]).get("/h/river/").get_data(as_text=True)
    banks = html.split('id="bank-syncs"')[1].split("</table>")[0]
    fresh = banks.split(f'data-item="{world["fresh"].item.id}"')[1].split("</tr>")[0]
    broken = banks.split(f'data-item="{world["broken"].item.id}"')[1].split("</tr>")[0]
    assert "Fresh Bank" in fresh and "3 hours ago" in fresh and "syncing" in fresh
    assert "Broken Bank" in broken and "not synced yet" in broken and "needs attention" in broken
    # November 2026 (the clock's month): $500.00 in, the $120.00 expense and the host fee (0 here) out.
    assert "Money in, November 2026" in html
    assert '<span class="value money-in" id="month-in">$500.00</span>' in html
    assert '<span class="value money-out" id="month-out">$120.00</span>' in html
    assert '<a href="/h/river/collectives/river-rowers">River Rowers</a>' in html


def test_an_accountant_sees_the_figures_but_no_connection_work(db, client, login_as, clock):
    world = todo_world(db, clock)
    html = login_as(world["accountant"]).get("/h/river/").get_data(as_text=True)
    assert "3 bank rows to triage" in html and 'id="month-in">$500.00<' in html
    assert "sign in again" not in html and "Choose accounts" not in html


def test_with_nothing_to_do_the_dashboard_says_so(db, client, login_as):
    host = make_host(slug="river")
    user = make_user(host)
    db.session.commit()
    html = login_as(user).get("/h/river/").get_data(as_text=True)
    assert "Nothing to do: every bank row is triaged and every connection is healthy." in html
    assert 'id="todo"' not in html and "No bank connected yet." in html
    assert 'id="month-in">$0.00<' in html
