"""Refused webhook requests: counted per reason and minute in Redis, a few kept as rows, limited per client.

A flood of forgeries must cost a Redis increment each, not a committed row:
only the first WEBHOOK_REFUSAL_SAMPLES_PER_MINUTE refusals of each reason in a
minute become webhook_events rows. Counts live 25 hours (per minute for the
last hour, per hour for the day) and the Webhooks page shows them.
"""
import ipaddress
from datetime import datetime, timezone
import logging
import threading

import redis
from flask import current_app, request

from hostadmin.clock import utcnow

log = logging.getLogger("hostadmin.webhooks")

BY_MINUTE = "hostadmin:webhook-refusals:minute:{minute}"
BY_HOUR = "hostadmin:webhook-refusals:hour:{hour}"
KEEP_SECONDS = 25 * 3600
RATE_LIMITED = "rate limited"
DEFAULT_SAMPLES_PER_MINUTE = 5
DEFAULT_REFUSALS_PER_CLIENT = "20 per minute"


def _redis():
    from hostadmin.extensions import queues

    return queues.connection


class _Local:
    """Per process, when Redis cannot count: this minute's counts (sampling still stays bounded)."""

    lock = threading.Lock()
    minute = None
    counts = {}


def count_refusal(reason):
    """Count one refusal for `reason` (fixed text, never client data); returns this minute's count for it."""
    now = utcnow().timestamp()
    minute, hour = int(now // 60), int(now // 3600)
    try:
        pipe = _redis().pipeline(transaction=False)
        pipe.hincrby(BY_MINUTE.format(minute=minute), reason, 1).expire(BY_MINUTE.format(minute=minute), KEEP_SECONDS)
        pipe.hincrby(BY_HOUR.format(hour=hour), reason, 1).expire(BY_HOUR.format(hour=hour), KEEP_SECONDS)
        return pipe.execute()[0]
    except redis.RedisError:
        with _Local.lock:
            if _Local.minute != minute:
                _Local.minute, _Local.counts = minute, {}
            _Local.counts[reason] = _Local.counts.get(reason, 0) + 1
            return _Local.counts[reason]


def worth_a_sample(count):
    """Whether the refusal counted `count`-th this minute (for its reason) should also be stored as a row."""
    return count <= current_app.config.get("WEBHOOK_REFUSAL_SAMPLES_PER_MINUTE", DEFAULT_SAMPLES_PER_MINUTE)


def recent_counts(minutes=60):
    """{minute start (datetime): {reason: count}} for the last `minutes` minutes with any refusal, oldest first.

    Raises redis.RedisError when Redis cannot be read.
    """
    now_minute = int(utcnow().timestamp() // 60)
    span = range(now_minute - minutes + 1, now_minute + 1)
    found = _read([BY_MINUTE.format(minute=m) for m in span])
    return {datetime.fromtimestamp(m * 60, timezone.utc): counts for m, counts in zip(span, found) if counts}


def summary():
    """Rows (reason, this minute, last hour, last 24 hours), busiest first; None when Redis cannot be read."""
    now = utcnow().timestamp()
    minute, hour = int(now // 60), int(now // 3600)
    try:
        by_minute = _read([BY_MINUTE.format(minute=m) for m in range(minute - 59, minute + 1)])
        by_hour = _read([BY_HOUR.format(hour=h) for h in range(hour - 23, hour + 1)])
    except redis.RedisError:
        return None
    totals = {}
    for index, counts in enumerate(by_minute):
        for reason, count in counts.items():
            row = totals.setdefault(reason, [0, 0, 0])
            row[1] += count
            if index == len(by_minute) - 1:
                row[0] += count
    for counts in by_hour:
        for reason, count in counts.items():
            totals.setdefault(reason, [0, 0, 0])[2] += count
    return sorted(((reason, *row) for reason, row in totals.items()), key=lambda r: (-r[3], -r[2], r[0]))


def _read(keys):
    pipe = _redis().pipeline(transaction=False)
    for key in keys:
        pipe.hgetall(key)
    found = pipe.execute()
    return [{_text(k): int(v) for k, v in counts.items()} for counts in found]


def _text(value):
    return value.decode() if isinstance(value, bytes) else value


# -- per-client limit (Flask-Limiter) ----------------------------------------------------------------
def client_key():
    """The client's address; IPv6 by /64, since one host is handed a whole /64 and could rotate through it."""
    address = request.remote_addr or ""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def refusals_per_client():
    """The limit string for refused requests from one client (WEBHOOK_REFUSALS_PER_CLIENT)."""
    return current_app.config.get("WEBHOOK_REFUSALS_PER_CLIENT", DEFAULT_REFUSALS_PER_CLIENT)


def refused(response):
    """Flask-Limiter's deduct_when: only refused requests use up a client's allowance."""
    return response.status_code >= 400


def on_limited(_limit):
    """A client over its allowance gets a cheap plain 429 (counted, never stored); Plaid honours Retry-After."""
    if worth_a_sample(count_refusal(RATE_LIMITED)):  # a flood must not flood the log either
        log.warning("webhook refused: rate limited (client %s)", client_key())
    return current_app.response_class("too many requests\n", 429, {
        "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store", "Retry-After": "60"})
