"""Login throttling: attempts per (email, client address) and a ceiling per address, counted in Redis.

An attempt is counted before its password is checked, by one atomic Redis script per key, so
concurrent attempts cannot all pass the check; a successful login forgets its (email, address) count.
"""
import hashlib
import logging

from flask import current_app
from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from hostadmin.extensions import limiter

log = logging.getLogger("hostadmin.auth")

# Used only while the shared storage is unreachable: per-process counts beat no counts at all.
_fallback = MovingWindowRateLimiter(MemoryStorage())


class LoginThrottled(Exception):
    """Too many recent attempts for this email from this address, or from this address."""


def _items():
    config = current_app.config
    window = config["LOGIN_FAILURE_WINDOW_SECONDS"]
    return (RateLimitItemPerSecond(config["LOGIN_MAX_FAILURES"], window),
            RateLimitItemPerSecond(config["LOGIN_MAX_ATTEMPTS_PER_ADDRESS"], window))


def _keys(email, address):
    # Hashed: Redis keys of bounded size that do not list the emails people typed.
    email_key = hashlib.sha256(email.encode()).hexdigest()
    return ("login-email", address or "-", email_key), ("login-address", address or "-")


def _run(operation):
    """Run operation(strategy) on the shared storage, or on this process's while it is down."""
    try:
        return operation(MovingWindowRateLimiter(limiter.storage))
    except limiter.storage.base_exceptions as error:
        log.error("Login throttle storage unreachable, counting in this process: %s", error)
        return operation(_fallback)


def take_attempt(email, address):
    """Count one login attempt; raise LoginThrottled when it is over a limit."""
    per_email, per_address = _items()
    email_key, address_key = _keys(email, address)
    if not _run(lambda strategy: strategy.hit(per_address, *address_key)
                and strategy.hit(per_email, *email_key)):
        raise LoginThrottled()


def forget_failures(email, address):
    """After a successful login: that email's count from that address starts again (the ceiling stays)."""
    per_email, _ = _items()
    email_key, _ = _keys(email, address)
    _run(lambda strategy: strategy.clear(per_email, *email_key))


def resets_at(email, address):
    """When (epoch seconds) the (email, address) count next drops an attempt."""
    per_email, _ = _items()
    email_key, _ = _keys(email, address)
    return _run(lambda strategy: strategy.get_window_stats(per_email, *email_key).reset_time)
