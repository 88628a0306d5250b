"""Spooling a sync run's pages to disk so memory stays flat on a 100,000-transaction first sync.

Pages are appended as they arrive; nothing touches the import rows until
every page of the run is in, then the run is read back in chunks and applied
in one database transaction. A mutation restart simply throws the spool away.
"""
import tempfile

import msgspec

from hostadmin.banking.decode import BankLine

CHUNK = 2000


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
        payload = [list(pair) for pair in lines] if kind == "removed" else lines
        blob = self._encoder.encode(payload)
        handle = self._files[kind]
        handle.write(len(blob).to_bytes(4, "big"))
        handle.write(blob)
        self.counts[kind] += len(lines)

    def read(self, kind):
        """Yield lists of at most CHUNK entries, in arrival order."""
        handle = self._files[kind]
        handle.seek(0)
        decoder = msgspec.msgpack.Decoder(list[list[str]] if kind == "removed" else list[BankLine])
        buffered = []
        while header := handle.read(4):
            buffered.extend(decoder.decode(handle.read(int.from_bytes(header, "big"))))
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
