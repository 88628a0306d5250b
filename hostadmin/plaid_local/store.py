"""SQLite state of the Plaid emulator: one file, WAL, one connection per thread."""
import queue
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS link_tokens(
  token TEXT PRIMARY KEY, item_id TEXT, data TEXT NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS public_tokens(
  token TEXT PRIMARY KEY, item_id TEXT NOT NULL, expires_at REAL NOT NULL,
  used INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS items(
  item_id TEXT PRIMARY KEY, access_token TEXT UNIQUE NOT NULL,
  institution_id TEXT, institution_name TEXT, webhook TEXT, username TEXT,
  client_user_id TEXT, error TEXT, ready INTEGER NOT NULL DEFAULT 1,
  sync_called INTEGER NOT NULL DEFAULT 0, removed INTEGER NOT NULL DEFAULT 0,
  created_at REAL NOT NULL, days_requested INTEGER NOT NULL DEFAULT 90,
  last_successful_update REAL, last_failed_update REAL,
  last_webhook_at REAL, last_webhook_code TEXT,
  force_mutation INTEGER NOT NULL DEFAULT 0, webhook_defect TEXT,
  head_seq INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS accounts(
  account_id TEXT PRIMARY KEY, item_id TEXT NOT NULL, position INTEGER NOT NULL,
  shared INTEGER NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS accounts_item ON accounts(item_id, position);
CREATE TABLE IF NOT EXISTS transactions(
  transaction_id TEXT PRIMARY KEY, item_id TEXT NOT NULL, account_id TEXT NOT NULL,
  pending INTEGER NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS transactions_item ON transactions(item_id, account_id);
CREATE TABLE IF NOT EXISTS txlog(
  item_id TEXT NOT NULL, seq INTEGER NOT NULL, op TEXT NOT NULL,
  transaction_id TEXT NOT NULL, account_id TEXT NOT NULL, wire TEXT,
  original_description TEXT,
  PRIMARY KEY(item_id, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS signing_keys(
  kid TEXT PRIMARY KEY, private_pem TEXT NOT NULL, created_at INTEGER NOT NULL,
  expired_at INTEGER, active INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS outbox(
  id INTEGER PRIMARY KEY AUTOINCREMENT, item_id TEXT, url TEXT NOT NULL,
  webhook_type TEXT, webhook_code TEXT, body BLOB NOT NULL, defect TEXT,
  status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at REAL NOT NULL, last_status INTEGER, last_error TEXT,
  created_at REAL NOT NULL, delivered_at REAL, claimed_at REAL);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox(status, next_attempt_at, id);
CREATE TABLE IF NOT EXISTS outbox_attempts(
  outbox_id INTEGER NOT NULL, at REAL NOT NULL, status INTEGER, error TEXT,
  body BLOB, jwt TEXT);
CREATE TABLE IF NOT EXISTS faults(
  id INTEGER PRIMARY KEY AUTOINCREMENT, endpoint TEXT NOT NULL, kind TEXT NOT NULL,
  error_code TEXT, remaining INTEGER, delay REAL, drop_key TEXT);
"""


class Store:
    """Thread-safe access to the emulator's SQLite file."""

    def __init__(self, path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        # One writer at a time inside this process; SQLite's own lock covers other processes.
        self._write_lock = threading.RLock()
        self._connections = []
        # The threaded server runs each request on a new thread: idle connections are reused.
        self._idle = queue.SimpleQueue()
        self.conn().executescript(SCHEMA)
        self._upgrade()

    def _upgrade(self) -> None:
        # State files outlive code versions: add columns that older files lack.
        columns = {r[1] for r in self.conn().execute("PRAGMA table_info(outbox)")}
        if "claimed_at" not in columns:
            self.conn().execute("ALTER TABLE outbox ADD COLUMN claimed_at REAL")

    def conn(self) -> sqlite3.Connection:
        """Return this thread's connection, taking an idle one or opening one on first use."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                conn = sqlite3.connect(self.path, isolation_level=None, timeout=30,
                                       check_same_thread=False)
                conn.row_factory = sqlite3.Row
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA busy_timeout=30000")
                self._connections.append(conn)
            self._local.conn = conn
        return conn

    def release(self) -> None:
        """Return this thread's connection to the idle pool (at the end of a request)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and not conn.in_transaction:
            self._local.conn = None
            self._idle.put(conn)

    @contextmanager
    def write(self):
        """Run a block inside one IMMEDIATE transaction."""
        with self._write_lock:
            conn = self.conn()
            if conn.in_transaction:  # nested call: join the outer transaction
                yield conn
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def one(self, sql, params=()):
        """Fetch one row (or None)."""
        return self.conn().execute(sql, params).fetchone()

    def all(self, sql, params=()):
        """Fetch all rows."""
        return self.conn().execute(sql, params).fetchall()

    def close(self):
        """Close every connection this store opened."""
        for conn in self._connections:
            try:
                conn.close()
            except sqlite3.Error:
                pass
        self._connections.clear()
        self._local = threading.local()
