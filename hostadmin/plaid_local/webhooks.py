"""Webhook outbox: queue, sign per attempt, deliver with Plaid's retry schedule, inject defects."""
import email.utils
import logging
import threading
import time
from datetime import datetime

import urllib3

from .signing import webhook_body

log = logging.getLogger(__name__)
DEFECTS = ("stale_iat", "tampered_body", "unknown_kid", "expired_key", "duplicate",
           "out_of_order")
MAX_RETRY_AFTER = 4 * 3600
STALE_IAT_SECONDS = 600


class Outbox:
    """Stores webhooks, delivers them from a background thread or on demand."""

    def __init__(self, store, keys, clock, *, retry_scale=1.0, max_attempts=7, timeout=10.0):
        self.store = store
        self.keys = keys
        self.clock = clock
        self.retry_scale = retry_scale
        self.max_attempts = max_attempts
        self.timeout = timeout
        self.http = urllib3.PoolManager(timeout=urllib3.Timeout(total=timeout), retries=False)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = None

    def _now(self) -> float:
        return self.clock().timestamp()

    # -- queueing --------------------------------------------------------------
    def enqueue(self, item_id: str | None, url: str, payload: dict,
                defect: str | None = None) -> list[int]:
        """Queue one webhook (two rows for `duplicate`); returns the outbox ids."""
        if defect and defect not in DEFECTS:
            raise ValueError(f"unknown webhook defect {defect!r}")
        body = webhook_body(payload)
        now = self._now()
        status = "held" if defect == "out_of_order" else "pending"
        ids = []
        with self.store.write() as conn:
            copies = 2 if defect == "duplicate" else 1
            for _ in range(copies):
                cur = conn.execute(
                    "INSERT INTO outbox(item_id, url, webhook_type, webhook_code, body, defect,"
                    " status, next_attempt_at, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
                    (item_id, url, payload.get("webhook_type"), payload.get("webhook_code"),
                     body, defect, status, now, now))
                ids.append(cur.lastrowid)
            if status == "pending" and item_id:
                # A held (out-of-order) webhook goes out right after the one queued after it.
                conn.execute("UPDATE outbox SET status='pending', next_attempt_at=? "
                             "WHERE item_id=? AND status='held'", (now + 1e-3, item_id))
            if item_id:
                conn.execute("UPDATE items SET last_webhook_at=?, last_webhook_code=? "
                             "WHERE item_id=?", (now, payload.get("webhook_code"), item_id))
        self._wake.set()
        return ids

    def rows(self, item_id: str | None = None, status: str | None = None) -> list[dict]:
        """Return outbox rows (with their attempts) for inspection, oldest first."""
        sql, params = "SELECT * FROM outbox WHERE 1=1", []
        if item_id:
            sql, params = sql + " AND item_id=?", params + [item_id]
        if status:
            sql, params = sql + " AND status=?", params + [status]
        out = []
        for row in self.store.all(sql + " ORDER BY id", params):
            entry = dict(row)
            entry["body"] = row["body"].decode()
            entry["attempt_log"] = [
                {"at": a["at"], "status": a["status"], "error": a["error"],
                 "body": a["body"].decode() if a["body"] is not None else None, "jwt": a["jwt"]}
                for a in self.store.all("SELECT * FROM outbox_attempts WHERE outbox_id=? "
                                        "ORDER BY rowid", (row["id"],))]
            out.append(entry)
        return out

    # -- delivery --------------------------------------------------------------
    def deliver_due(self, force: bool = False) -> int:
        """Attempt every webhook that is due (all pending ones if `force`); return attempts made."""
        made = 0
        while True:
            cutoff = float("inf") if force else self._now()
            with self.store.write() as conn:
                # A process that died mid-attempt leaves its row claimed: take it back later.
                conn.execute("UPDATE outbox SET status='pending' WHERE status='sending' "
                             "AND claimed_at<?", (time.time() - self.timeout - 30,))
                row = conn.execute(
                    "UPDATE outbox SET status='sending', claimed_at=? WHERE id=(SELECT id "
                    "FROM outbox WHERE status='pending' AND next_attempt_at<=? "
                    "ORDER BY next_attempt_at, id LIMIT 1) RETURNING *",
                    (time.time(), cutoff)).fetchone()
            if row is None:
                return made
            self._attempt(row)
            made += 1
            if force and made > 10_000:  # a receiver that never accepts must not spin forever
                return made

    def _signed(self, row) -> tuple[bytes, str]:
        body, defect, now = row["body"], row["defect"], int(self._now())
        if defect == "stale_iat":
            return body, self.keys.sign(body, iat=now - STALE_IAT_SECONDS)
        if defect == "unknown_kid":
            return body, self.keys.sign_with_unknown_kid(body)
        if defect == "expired_key":
            expired = self.store.one("SELECT kid FROM signing_keys WHERE active=0 "
                                     "ORDER BY expired_at DESC LIMIT 1")
            kid = expired["kid"] if expired else None
            if kid is None:  # no retired key yet: retire the current one
                kid = self.keys.active_kid()
                self.keys.rotate()
            return body, self.keys.sign(body, kid=kid)
        token = self.keys.sign(body)
        if defect == "tampered_body":
            # Signed over the original bytes, then the item_id is swapped: the hash no longer fits.
            return body.replace(b'"item_id": "', b'"item_id": "X', 1), token
        return body, token

    def _attempt(self, row) -> None:
        body, token = self._signed(row)
        status, error, retry_after = None, None, None
        try:
            resp = self.http.request("POST", row["url"], body=body, headers={
                "Content-Type": "application/json", "Plaid-Verification": token})
            status = resp.status
            retry_after = resp.headers.get("Retry-After")
        except urllib3.exceptions.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        now = self._now()
        attempts = row["attempts"] + 1
        with self.store.write() as conn:
            conn.execute("INSERT INTO outbox_attempts VALUES (?,?,?,?,?,?)",
                         (row["id"], now, status, error, body, token))
            if status == 200:
                conn.execute("UPDATE outbox SET status='delivered', attempts=?, last_status=?, "
                             "last_error=NULL, delivered_at=? WHERE id=?",
                             (attempts, status, now, row["id"]))
                return
            failed = attempts >= self.max_attempts
            delay = self.retry_delay(attempts, status, retry_after)
            conn.execute("UPDATE outbox SET status=?, attempts=?, last_status=?, last_error=?, "
                         "next_attempt_at=? WHERE id=?",
                         ("failed" if failed else "pending", attempts, status, error,
                          now + delay, row["id"]))
        log.info("webhook %s attempt %s -> %s %s", row["id"], attempts, status, error or "")

    def retry_delay(self, attempts: int, status: int | None, retry_after: str | None) -> float:
        """Seconds before the next attempt: 30 s ×4 per failure, or Retry-After on 429, scaled."""
        delay = 30.0 * 4 ** (attempts - 1)
        if status == 429 and retry_after:
            parsed = _parse_retry_after(retry_after, self._now())
            if parsed is not None:
                delay = min(parsed, MAX_RETRY_AFTER)
        return delay * self.retry_scale

    # -- background thread -------------------------------------------------------
    def start(self, poll_interval: float = 0.2) -> None:
        """Start the delivery thread (idempotent)."""
        if self._thread and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(poll_interval,),
                                        name="plaid-local-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the delivery thread and wait for it."""
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=15)
            self._thread = None

    def _run(self, poll_interval: float) -> None:
        while not self._stop.is_set():
            try:
                self.deliver_due()
            except Exception:  # keep delivering later webhooks whatever one of them did
                log.exception("webhook delivery failed")
            self._wake.wait(poll_interval)
            self._wake.clear()


def _parse_retry_after(value: str, now: float) -> float | None:
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError):
        pass
    try:
        return max(0.0, datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() - now)
    except ValueError:
        return None
