"""Stable ids of statement lines, the same for every format, so an overlapping statement adds only new lines.

A line's id is the bank's own id when the format or the mapping gives one (``ref:…``), otherwise a hash of
the account label, date, amount, currency and description (case and spacing ignored) plus the occurrence
number of identical lines in the file. The hash is pinned by a golden test: changing it would make every
re-upload import overlapping lines again.
"""
import hashlib
from collections import Counter


def account_label(imp):
    """The label the import's ids are built on (fixed when the import is created)."""
    return (imp.csv_mapping or {}).get("account") or f"import-{imp.id}"


def hashed(account, line, occurrence):
    """The content id of a line without a bank id."""
    text = "|".join([account, line.date.isoformat(), str(line.amount), line.currency,
                     " ".join(line.description.lower().split()), str(occurrence)])
    return "h:" + hashlib.sha256(text.encode()).hexdigest()[:40]


def assign(lines, account):
    """Give each line without one its id: its reference when it has one, else its content hash."""
    seen = Counter()
    for line in lines:
        key = (line.date, line.amount, line.currency, " ".join(line.description.lower().split()))
        seen[key] += 1
        if line.source_id:
            continue
        line.source_id = f"ref:{line.reference[:120]}" if line.reference else hashed(account, line, seen[key])
    return lines
