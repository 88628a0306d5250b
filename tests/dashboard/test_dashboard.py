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
