"""Test databases: migrated once per run, fresh for every test.

SQLite: the migrated file is a template copied per test. PostgreSQL: the
schema is rebuilt from migrations once, and every table is truncated after
each test (TRUNCATE does not fire the ledger's row trigger).
"""
import os
import shutil
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect, text

from config import TestConfig, normalise_database_url

# TEST_POSTGRES_URL lets parallel runs on one machine each use their own database.
DEFAULT_POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def is_postgres(url):
    return url.startswith("postgresql")


def postgres_reachable(url):
    """True when a PostgreSQL server answers at `url`."""
    try:
        engine = create_engine(normalise_database_url(url), connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def migrate(url, redis_url):
    """Build the schema at `url` from nothing through the migrations."""
    from hostadmin import create_app

    url = normalise_database_url(url)
    if is_postgres(url):
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    app = create_app(TestConfig, {"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": redis_url})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory, revision="heads")
        from hostadmin.extensions import db
        db.engine.dispose()


class TestDatabases:
    """Hands out a clean database URL per test for one configured database."""

    def __init__(self, base_url, workdir: Path, redis_url):
        self.base_url = normalise_database_url(base_url)
        self.workdir = workdir
        self.redis_url = redis_url
        self.template = None

    @property
    def postgres(self):
        return is_postgres(self.base_url)

    def prepare(self):
        if self.postgres:
            migrate(self.base_url, self.redis_url)
        else:
            self.template = self.workdir / "template.sqlite3"
            # `make mutants` starts pytest once per mutant: it names a template to migrate once and reuse.
            shared = os.environ.get("HOSTADMIN_TEST_SQLITE_TEMPLATE")
            if shared and Path(shared).exists():
                shutil.copyfile(shared, self.template)
                return
            migrate(f"sqlite:///{self.template}", self.redis_url)
            if shared:
                shutil.copyfile(self.template, f"{shared}.{os.getpid()}")
                os.replace(f"{shared}.{os.getpid()}", shared)

    def fresh(self, tmp_path):
        """A URL of a clean, migrated database for one test."""
        if self.postgres:
            return self.base_url
        target = tmp_path / "hostadmin.sqlite3"
        shutil.copyfile(self.template, target)
        return f"sqlite:///{target}"

    def clean(self, engine):
        """Empty every table after a test (PostgreSQL; SQLite files are simply dropped)."""
        if not self.postgres:
            return
        tables = [t for t in inspect(engine).get_table_names() if t != "alembic_version"]
        if tables:
            with engine.begin() as connection:
                connection.execute(text(
                    "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
