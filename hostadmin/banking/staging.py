"""Spooling a sync run's pages to disk so memory stays flat on a 100,000-transaction first sync.

Pages are appended as they arrive; nothing touches the import rows until
every page of the run is in, then the run is read back in chunks and applied
in one database transaction. A mutation restart simply throws the spool away.
"""
import tempfile
from datetime import date

import msgspec

from hostadmin.banking.decode import BankLine

CHUNK = 2000


class _Line(msgspec.Struct, array_like=True):
    source_id: str
    plaid_account_id: str
    date: date
    authorized_date: date | None
    amount: int
    currency: str
    description: str
    merchant_name: str | None
    pending: bool
    pending_source_id: str | None
    raw: str


class Spool:
    """Three append-only files of one run: added, modified, removed."""

    def __init__(self):
        self._files = {kind: tempfile.TemporaryFile() for kind in ("added", "modified", "removed")}
        self._encoder = msgspec.msgpack.Encoder()
        self.counts = {kind: 0 for kind in self._files}

    def add(self, kind, lines):
        """Append BankLines (added/modified) or (source_id, plaid_account_id) pairs (removed)."""
        if not lines:
            return
        if kind == "removed":
            payload = [list(pair) for pair in lines]
        else:
            payload = [_Line(**line.__dict__) for line in lines]
        blob = self._encoder.encode(payload)
        handle = self._files[kind]
        handle.write(len(blob).to_bytes(4, "big"))
        handle.write(blob)
        self.counts[kind] += len(lines)

    def read(self, kind):
        """Yield lists of at most CHUNK entries, in arrival order."""
        handle = self._files[kind]
        handle.seek(0)
        decoder = msgspec.msgpack.Decoder(list[list[str]] if kind == "removed" else list[_Line])
        buffered = []
        while header := handle.read(4):
            batch = decoder.decode(handle.read(int.from_bytes(header, "big")))
            if kind != "removed":
                batch = [BankLine(**{f: getattr(item, f) for f in _Line.__struct_fields__}) for item in batch]
            buffered.extend(batch)
            while len(buffered) >= CHUNK:
                yield buffered[:CHUNK]
                buffered = buffered[CHUNK:]
        if buffered:
            yield buffered

    def close(self):
        for handle in self._files.values():
            handle.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
