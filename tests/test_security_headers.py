"""Every response carries a Content-Security-Policy without inline scripts and the usual security headers."""
import pytest

from hostadmin.auth.models import Role
from tests.factories import make_host, make_user


def directives(response):
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


@pytest.fixture
def admin(db):
    user = make_user(make_host(slug="river"), Role.ADMIN)
    db.session.commit()
    return user


@pytest.mark.parametrize("path", ["/login", "/healthz", "/static/app.css", "/no-such-page"])
def test_public_responses_carry_the_security_headers(client, path):
    response = client.get(path)
    csp = directives(response)
    assert csp["script-src"][0] == "'self'" and "'unsafe-inline'" not in csp["script-src"]
    assert "'unsafe-eval'" not in csp["script-src"]
    assert csp["style-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_pages_behind_the_login_carry_the_policy_too(client, admin, login_as):
    login_as(admin)
    assert "'unsafe-inline'" not in client.get("/h/river/").headers["Content-Security-Policy"]


def test_plaid_link_is_allowed_from_where_the_app_loads_it(app, client):
    app.config.update(PLAID_ENV="local", PLAID_HOST="http://127.0.0.1:8765")
    local = directives(client.get("/login"))
    assert local["script-src"] == ["'self'", "http://127.0.0.1:8765"]
    assert local["frame-src"] == ["http://127.0.0.1:8765"]

    app.config.update(PLAID_ENV="production", PLAID_HOST=None)
    real = directives(client.get("/login"))
    assert real["script-src"] == ["'self'", "https://cdn.plaid.com"]
    assert real["frame-src"] == ["https://cdn.plaid.com"]
    assert real["connect-src"] == ["'self'", "https://production.plaid.com"]
