"""Fixtures for the money side: the same tests on SQLite and on PostgreSQL."""
import pytest


@pytest.fixture(params=["sqlite", "postgres"])
def any_app(request):
    """The app on SQLite (or TEST_DATABASE_URL), then on PostgreSQL (the pg_app fixture)."""
    return request.getfixturevalue("app" if request.param == "sqlite" else "pg_app")


@pytest.fixture
def cli(app):
    """cli(*args) runs a `flask` command in the test's app; the result has stdout, stderr, exit_code."""
    runner = app.test_cli_runner()
    return lambda *args, **kwargs: runner.invoke(args=[str(a) for a in args], **kwargs)


@pytest.fixture
def worker():
    """worker() runs every job waiting on the `reports` queue in a real RQ SimpleWorker, then returns."""
    from flask import g
    from rq import SimpleWorker

    from hostadmin.extensions import queues

    def work():
        queue = queues.get("reports")
        SimpleWorker([queue], connection=queues.connection).work(burst=True)
        # The job ended the shared session: what earlier requests left in `g` is detached now.
        for name in ("host", "membership"):
            g.pop(name, None)
    return work
