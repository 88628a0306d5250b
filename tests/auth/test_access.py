"""Every page needs login; hosts are isolated; accountants read only."""
import pytest

from hostadmin.auth.models import Role
from tests.factories import make_collective, make_host, make_user

PUBLIC = {"auth.login", "static", "health", "webhooks.plaid", "processor_webhooks.stripe", "processor_webhooks.wise",
          "processor_webhooks.paypal"}


@pytest.fixture
def two_hosts(db):
    river, lake = make_host(slug="river"), make_host(slug="lake")
    make_collective(river, "River Rowers")
    make_collective(lake, "Lake Swimmers")
    people = {
        "river_admin": make_user(river, Role.ADMIN),
        "river_accountant": make_user(river, Role.ACCOUNTANT),
        "lake_admin": make_user(lake, Role.ADMIN),
    }
    db.session.commit()
    return people


def test_every_route_but_the_public_ones_needs_login(app, client):
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC:
            continue
        path = rule.build({arg: "river" if arg == "host_slug" else "1" for arg in rule.arguments},
                          append_unknown=False)[1]
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(path, method=method)
            # POSTs without a session are refused by CSRF (400) before anything runs.
            assert response.status_code in (302, 400), (method, path, response.status_code)
            if response.status_code == 302:
                assert response.headers["Location"].startswith("/login")
            checked += 1
    assert checked >= 4


def test_member_of_one_host_gets_404_for_another(client, login_as, two_hosts):
    login_as(two_hosts["river_admin"])
    assert client.get("/h/river/").status_code == 200
    other = client.get("/h/lake/")
    assert other.status_code == 404
    assert "Lake" not in other.get_data(as_text=True)
    assert client.post_with_csrf("/h/lake/collectives", {"name": "Sneaky"}).status_code == 404


def test_accountant_can_read_but_not_write(client, login_as, two_hosts):
    login_as(two_hosts["river_accountant"])
    page = client.get("/h/river/")
    assert page.status_code == 200 and "read-only" in page.get_data(as_text=True)
    assert "Add a collective" not in page.get_data(as_text=True)
    response = client.post_with_csrf("/h/river/collectives", {"name": "Sneaky"})
    assert response.status_code == 403
    assert "Sneaky" not in client.get("/h/river/").get_data(as_text=True)


def test_htmx_post_carries_csrf_in_a_header(client, login_as, two_hosts):
    login_as(two_hosts["river_admin"])
    assert client.post("/h/river/collectives", data={"name": "No token"},
                       headers={"HX-Request": "true"}).status_code == 400
    response = client.post_with_csrf("/h/river/collectives", {"name": "With token"}, htmx=True)
    assert response.status_code == 302
    assert "With token" in client.get("/h/river/").get_data(as_text=True)


def test_unknown_url_gets_a_styled_404(client, login_as, two_hosts):
    login_as(two_hosts["river_admin"])
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)
    assert 'href="/static/app.css"' in response.get_data(as_text=True)


def test_unhandled_error_shows_a_reference_not_a_stack_trace(app, client, login_as, two_hosts, caplog):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/_test/boom")
    def boom():
        raise RuntimeError("secret internals")

    login_as(two_hosts["river_admin"])
    response = client.get("/_test/boom", headers={"X-Request-ID": "req-123"})
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "req-123" in html and "secret internals" not in html and "Traceback" not in html
    assert any("request_id=req-123" in record.getMessage() for record in caplog.records)
