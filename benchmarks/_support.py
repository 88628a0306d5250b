"""Helpers shared by the benchmarks: their own PostgreSQL databases, free ports, waiting for servers."""
import socket
import time
import urllib.request

from sqlalchemy import create_engine, text

from config import normalise_database_url


def ensure_database(url):
    """CREATE DATABASE for `url` unless it exists (through the server's `postgres` database)."""
    base, name = url.rsplit("/", 1)
    engine = create_engine(normalise_database_url(f"{base}/postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            if not connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()


def free_port():
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url, timeout=30):
    """Return once `url` answers; exit the benchmark if it does not within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {timeout} s")
