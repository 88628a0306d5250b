"""Signing in and out: messages, rate limiting, CSRF."""
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from hostadmin.auth import service, throttle
from hostadmin.auth.models import Role
from tests.factories import PASSWORD, make_host, make_user
from tests.support.web import CSRF_META


@pytest.fixture
def admin(db):
    host = make_host(slug="river", name="River Host")
    user = make_user(host, Role.ADMIN, email="admin@river.org")
    db.session.commit()
    return user


def test_wrong_password_and_unknown_email_get_the_same_message(client, admin):
    wrong = client.login("admin@river.org", "not the password")
    unknown = client.login("nobody@river.org", "not the password")

    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "Email or password is incorrect." in response.get_data(as_text=True)


def test_login_redirects_to_the_hosts_dashboard(client, admin):
    response = client.login("ADMIN@river.org ", PASSWORD)
    assert response.status_code == 302
    dashboard = client.get(response.headers["Location"], follow_redirects=True)
    assert dashboard.status_code == 200
    assert "River Host" in dashboard.get_data(as_text=True)


def test_empty_fields_get_messages_next_to_them(client, admin):
    token = client.csrf_token()
    page = client.post("/login", data={"email": "", "password": "", "csrf_token": token})
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert "Enter your email address." in html and "Enter your password." in html


def test_repeated_failures_are_rate_limited_even_with_the_right_password(client, admin):
    for _ in range(5):
        assert client.login("admin@river.org", "guess").status_code == 401

    throttled = client.login("admin@river.org", PASSWORD)
    assert throttled.status_code == 429
    assert "Too many failed attempts" in throttled.get_data(as_text=True)


def test_the_throttle_forgets_failures_after_the_window(app, client, admin):
    for _ in range(5):
        client.login("admin@river.org", "guess")

    # The counts live in Redis with the window as their lifetime (real time: the frozen app clock
    # cannot move Redis's), so asking Redis when the entry resets is the check.
    reset_at = throttle.resets_at("admin@river.org", "127.0.0.1")
    assert 0 < reset_at - time.time() <= app.config["LOGIN_FAILURE_WINDOW_SECONDS"]


def test_a_successful_login_clears_that_emails_failures_from_that_address(client, admin):
    for _ in range(4):
        client.login("admin@river.org", "guess")
    assert client.login("admin@river.org", PASSWORD).status_code == 302
    client.post_with_csrf("/logout")

    for _ in range(4):
        assert client.login("admin@river.org", "guess").status_code == 401


def test_failures_from_one_address_do_not_lock_the_email_out_elsewhere(client, admin):
    attacker = {"REMOTE_ADDR": "203.0.113.9"}
    for _ in range(6):
        client.login("admin@river.org", "guess", environ_base=attacker)
    assert client.login("admin@river.org", PASSWORD, environ_base=attacker).status_code == 429

    owner = client.application.test_client()
    assert owner.login("admin@river.org", PASSWORD, environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code == 302


def test_behind_a_trusted_proxy_each_client_address_is_throttled_on_its_own(databases, redis_url, tmp_path):
    from tests.conftest import build_app, finish_app

    app, _ = build_app(databases, redis_url, tmp_path, TRUSTED_PROXIES=1)
    app_client = app.test_client()
    with app.app_context():
        make_user(make_host(slug="river"), Role.ADMIN, email="admin@river.org")
        from hostadmin.extensions import db
        db.session.commit()
        # Every request arrives from the proxy's address; the client's is in X-Forwarded-For.
        attacker = {"X-Forwarded-For": "203.0.113.9"}
        for n in range(5):
            assert app_client.login(f"guess{n}@river.org", "guess", headers=attacker).status_code == 401
        owner = app.test_client()
        response = owner.login("admin@river.org", PASSWORD, headers={"X-Forwarded-For": "198.51.100.7"})
        assert response.status_code == 302
    finish_app(app, databases)


def test_without_trusted_proxies_a_forged_forwarded_for_does_not_dodge_the_throttle(client, admin):
    for n in range(6):
        client.login("admin@river.org", "guess", headers={"X-Forwarded-For": f"198.51.100.{n}"})
    response = client.login("admin@river.org", PASSWORD, headers={"X-Forwarded-For": "198.51.100.77"})
    assert response.status_code == 429


def test_one_address_trying_many_emails_reaches_the_per_address_ceiling(app, client, admin):
    ceiling = app.config["LOGIN_MAX_ATTEMPTS_PER_ADDRESS"]
    for n in range(ceiling):
        assert client.login(f"guess{n}@river.org", "guess").status_code == 401
    assert client.login("admin@river.org", PASSWORD).status_code == 429

    neighbour = app.test_client()
    assert neighbour.login("admin@river.org", PASSWORD,
                           environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code == 302


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _browser_session(base_url):
    """A urllib opener with its own cookies and the login form's CSRF token."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(), _NoRedirects())
    page = opener.open(f"{base_url}/login").read().decode()
    return opener, CSRF_META.search(page).group(1)


def _post_status(opener, url, data):
    try:
        return opener.open(url, data=urllib.parse.urlencode(data).encode()).status
    except urllib.error.HTTPError as error:
        return error.code


def test_forty_concurrent_attempts_check_at_most_five_passwords(admin, live_server):
    sessions = [_browser_session(live_server) for _ in range(40)]
    barrier = threading.Barrier(40)

    def attempt(session):
        opener, token = session
        barrier.wait()
        return _post_status(opener, f"{live_server}/login", {
            "email": "admin@river.org", "password": "guess", "csrf_token": token})

    with ThreadPoolExecutor(40) as pool:
        statuses = list(pool.map(attempt, sessions))
    assert sorted(statuses) == [401] * 5 + [429] * 35


def test_unknown_emails_are_checked_against_a_hash_of_the_same_method_and_cost(app):
    app.config["PASSWORD_HASH_METHOD"] = "scrypt"
    real = service.hash_password("a real password")
    assert service.dummy_hash().split("$")[0] == real.split("$")[0] == "scrypt:32768:8:1"


def test_next_parameter_cannot_redirect_off_site(client, admin):
    token = client.csrf_token()
    response = client.post("/login?next=//evil.example/x", data={
        "email": "admin@river.org", "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_login_without_csrf_token_is_refused_with_a_readable_page(client, admin):
    response = client.post("/login", data={"email": "admin@river.org", "password": PASSWORD})
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still signed out


def test_logout_needs_post_with_csrf_and_signs_out(client, admin, login_as):
    login_as(admin)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400  # no token
    response = client.post_with_csrf("/logout")
    assert response.status_code == 302
    assert client.get("/").headers["Location"].startswith("/login")


def test_with_redis_unreachable_logins_work_and_are_still_throttled(databases, redis_url, tmp_path):
    from tests.conftest import build_app, finish_app

    app, _ = build_app(databases, redis_url, tmp_path, REDIS_URL="redis://127.0.0.1:1/0")
    with app.app_context():
        from hostadmin.extensions import db
        make_user(make_host(slug="river"), Role.ADMIN, email="admin@river.org")
        db.session.commit()
        client = app.test_client()
        address = {"REMOTE_ADDR": "192.0.2.200"}
        assert client.login("admin@river.org", PASSWORD, environ_base=address).status_code == 302
        client.post_with_csrf("/logout", environ_base=address)
        for _ in range(5):
            assert client.login("admin@river.org", "guess", environ_base=address).status_code == 401
        assert client.login("admin@river.org", PASSWORD, environ_base=address).status_code == 429
    finish_app(app, databases)
