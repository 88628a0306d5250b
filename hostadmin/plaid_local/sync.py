"""Per-item append-only change log and /transactions/sync windows (PLAID.md §14)."""
import base64
import json
import threading
from collections import OrderedDict

import msgspec

from .errors import PlaidAPIError, invalid_field

_encode = msgspec.json.Encoder().encode
MAX_CURSOR_LENGTH = 256


def encode_cursor(item_id: str, from_seq: int, head_seq: int | None, offset: int) -> str:
    """Return the opaque cursor for a position in a sync window."""
    raw = json.dumps([item_id, from_seq, head_seq, offset], separators=(",", ":"))
    return base64.b64encode(raw.encode()).decode()


def decode_cursor(cursor: str, item_id: str) -> tuple[int, int | None, int]:
    """Parse a cursor issued for `item_id` into (from_seq, head_seq, offset)."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise invalid_field("cursor must be at most 256 characters")
    try:
        owner, from_seq, head_seq, offset = json.loads(base64.b64decode(cursor, validate=True))
        if not (isinstance(from_seq, int) and isinstance(offset, int)
                and (head_seq is None or isinstance(head_seq, int))):
            raise ValueError
    except (ValueError, TypeError):
        raise invalid_field("cursor is invalid") from None
    if owner != item_id:
        raise invalid_field("cursor not associated with access_token")
    return from_seq, head_seq, offset


class ChangeLog:
    """Appends transaction ops and serves compacted, paginated sync windows."""

    def __init__(self, store, cache_size: int = 8):
        self.store = store
        self._windows = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    # -- writing ---------------------------------------------------------------
    def append(self, conn, item_id: str, ops: list[tuple]) -> int:
        """Append (op, transaction dict | (tid, account_id), original_description) ops; return new head."""
        head = conn.execute("SELECT head_seq FROM items WHERE item_id=?", (item_id,)).fetchone()[0]
        log_rows, upserts, deletes = [], [], []
        for op, payload, original in ops:
            head += 1
            if op == "remove":
                tid, account_id = payload
                log_rows.append((item_id, head, op, tid, account_id, None, None))
                deletes.append((tid,))
                continue
            wire = _encode(payload).decode()
            tid, account_id = payload["transaction_id"], payload["account_id"]
            log_rows.append((item_id, head, op, tid, account_id, wire, original))
            upserts.append((tid, item_id, account_id, int(payload["pending"]), wire))
        conn.executemany("INSERT INTO txlog VALUES (?,?,?,?,?,?,?)", log_rows)
        if upserts:
            conn.executemany("INSERT OR REPLACE INTO transactions VALUES (?,?,?,?,?)", upserts)
        if deletes:
            conn.executemany("DELETE FROM transactions WHERE transaction_id=?", deletes)
        conn.execute("UPDATE items SET head_seq=? WHERE item_id=?", (head, item_id))
        return head

    # -- reading ---------------------------------------------------------------
    def window(self, item_id: str, from_seq: int, head_seq: int) -> list[tuple]:
        """Return the compacted window (from, head] as [(seq, kind, tid, account_id)], cached.

        The log is append-only and head is fixed per window, so a window never changes.
        """
        key = (item_id, from_seq, head_seq)
        with self._lock:
            if key in self._windows:
                self._windows.move_to_end(key)
                return self._windows[key]
        rows = self.store.conn().execute(
            "SELECT seq, op, transaction_id, account_id FROM txlog "
            "WHERE item_id=? AND seq>? AND seq<=? ORDER BY seq", key).fetchall()
        first_op, latest = {}, {}
        for seq, op, tid, account_id in rows:
            first_op.setdefault(tid, op)
            latest[tid] = (seq, op, account_id)
        entries = []
        for tid, (seq, op, account_id) in latest.items():
            is_new = first_op[tid] == "add"
            if op == "remove":
                if is_new:  # created and removed inside the window: the reader never saw it
                    continue
                entries.append((seq, "removed", tid, account_id))
            else:
                entries.append((seq, "added" if is_new else "modified", tid, account_id))
        entries.sort()
        with self._lock:
            self._windows[key] = entries
            while len(self._windows) > self._cache_size:
                self._windows.popitem(last=False)
        return entries

    def wires(self, item_id: str, seqs: list[int], with_original: bool) -> dict[int, str]:
        """Return {seq: transaction JSON} for the given log positions."""
        if not seqs:
            return {}
        conn = self.store.conn()
        lo, hi = seqs[0], seqs[-1]
        if hi - lo + 1 <= 2 * len(seqs):  # dense: one range scan beats a long IN list
            rows = conn.execute("SELECT seq, wire, original_description FROM txlog "
                                "WHERE item_id=? AND seq BETWEEN ? AND ?", (item_id, lo, hi))
        else:
            marks = ",".join("?" * len(seqs))
            rows = conn.execute("SELECT seq, wire, original_description FROM txlog "
                                f"WHERE item_id=? AND seq IN ({marks})", (item_id, *seqs))
        wanted = set(seqs)
        out = {}
        for seq, wire, original in rows:
            if seq in wanted:
                if with_original:
                    wire = '{"original_description":' + json.dumps(original) + "," + wire[1:]
                out[seq] = wire
        return out

    def page(self, item, cursor: str, count: int, with_original: bool = False) -> dict:
        """Serve one sync page; returns pieces the endpoint renders (JSON strings for txns)."""
        item_id = item["item_id"]
        if cursor:
            from_seq, head_seq, offset = decode_cursor(cursor, item_id)
        else:
            from_seq, head_seq, offset = 0, None, 0
        if head_seq is None:
            head_seq, offset = item["head_seq"], 0
        elif item["head_seq"] != head_seq or item["force_mutation"]:
            if item["force_mutation"]:
                with self.store.write() as conn:
                    conn.execute("UPDATE items SET force_mutation=0 WHERE item_id=?", (item_id,))
            raise PlaidAPIError("TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION")
        if from_seq > head_seq or offset < 0:
            raise invalid_field("cursor is invalid")
        entries = self.window(item_id, from_seq, head_seq)
        chunk = entries[offset:offset + count]
        wires = self.wires(item_id, [e[0] for e in chunk if e[1] != "removed"], with_original)
        added, modified, removed, account_ids = [], [], [], []
        for seq, kind, tid, account_id in chunk:
            if account_id not in account_ids:
                account_ids.append(account_id)
            if kind == "removed":
                removed.append(f'{{"account_id":"{account_id}","transaction_id":"{tid}"}}')
            else:
                (added if kind == "added" else modified).append(wires[seq])
        has_more = offset + len(chunk) < len(entries)
        if has_more:
            next_cursor = encode_cursor(item_id, from_seq, head_seq, offset + len(chunk))
        else:
            next_cursor = encode_cursor(item_id, head_seq, None, 0)
        return {"added": added, "modified": modified, "removed": removed,
                "account_ids": account_ids, "next_cursor": next_cursor, "has_more": has_more}
