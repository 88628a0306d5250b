"""Chaos switches: fail, delay or malform the next calls to an endpoint."""
import time

from .errors import CATALOG, PlaidAPIError

KINDS = ("error", "delay", "malformed")


class Faults:
    """Armed faults, stored so a CLI in another process can arm them too."""

    def __init__(self, store):
        self.store = store

    def arm(self, endpoint: str, kind: str, *, error_code: str | None = None,
            count: int | None = 1, delay: float | None = None,
            drop_key: str | None = None) -> int:
        """Arm a fault for `endpoint` (e.g. "/transactions/sync", or "*"); count None = forever."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        if kind == "error" and error_code not in CATALOG:
            raise ValueError(f"unknown error_code {error_code!r}")
        if kind == "delay" and (delay is None or delay < 0):
            raise ValueError("delay needs a number of seconds")
        with self.store.write() as conn:
            cur = conn.execute("INSERT INTO faults(endpoint, kind, error_code, remaining, delay,"
                               " drop_key) VALUES (?,?,?,?,?,?)",
                               (endpoint, kind, error_code, count, delay,
                                drop_key or "request_id"))
        return cur.lastrowid

    def clear(self) -> None:
        """Disarm every fault."""
        with self.store.write() as conn:
            conn.execute("DELETE FROM faults")

    def list(self) -> list[dict]:
        """Return the armed faults."""
        return [dict(r) for r in self.store.all("SELECT * FROM faults ORDER BY id")]

    def apply(self, endpoint: str) -> str | None:
        """Consume faults for this call: sleep, raise, or return a key to drop from the body."""
        if not self.store.one("SELECT 1 FROM faults LIMIT 1"):
            return None  # the common case costs one indexed read
        with self.store.write() as conn:
            rows = conn.execute("SELECT * FROM faults WHERE endpoint IN (?, '*') ORDER BY id",
                                (endpoint,)).fetchall()
            fired = {}
            for row in rows:
                if row["kind"] in fired:
                    continue
                fired[row["kind"]] = row
                if row["remaining"] is not None:
                    if row["remaining"] <= 1:
                        conn.execute("DELETE FROM faults WHERE id=?", (row["id"],))
                    else:
                        conn.execute("UPDATE faults SET remaining=remaining-1 WHERE id=?",
                                     (row["id"],))
        if "delay" in fired:
            time.sleep(fired["delay"]["delay"])
        if "error" in fired:
            code = fired["error"]["error_code"]
            headers = {"Retry-After": "1"} if CATALOG[code][1] == 429 else {}
            raise PlaidAPIError(code, headers=headers)
        if "malformed" in fired:
            return fired["malformed"]["drop_key"]
        return None
