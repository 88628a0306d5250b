"""Signing in and out: messages, rate limiting, CSRF."""
import pytest

from hostadmin.auth.models import Role
from tests.factories import PASSWORD, make_host, make_user


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


def test_repeated_failures_are_rate_limited_even_with_the_right_password(client, admin, clock):
    for _ in range(5):
        assert client.login("admin@river.org", "guess").status_code == 401

    throttled = client.login("admin@river.org", PASSWORD)
    assert throttled.status_code == 429
    assert "Too many failed attempts" in throttled.get_data(as_text=True)

    clock.advance(minutes=16)
    assert client.login("admin@river.org", PASSWORD).status_code == 302


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
