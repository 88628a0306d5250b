"""Uploaded statements kept server-side between preview and confirm, keyed by an unguessable token.

The page carries only the token, never the file. A stored upload belongs to one host and import, is removed
when it is confirmed, and any older than a day is removed by the next upload.
"""
import json
import os
import re
import secrets
from datetime import datetime, timedelta
from pathlib import Path

LIFETIME = timedelta(days=1)
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")


def store(directory, host_id, import_id, data, filename, now):
    """Keep the bytes; returns the token (old uploads are swept first)."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    sweep(folder, now)
    token = secrets.token_urlsafe(24)
    meta = {"host_id": host_id, "import_id": import_id, "filename": filename[:300], "at": now.isoformat()}
    partial = folder / f".{token}.part"
    partial.write_bytes(data)
    os.replace(partial, folder / f"{token}.bin")  # visible only when complete
    (folder / f"{token}.json").write_text(json.dumps(meta))
    return token


def load(directory, token, host_id, import_id, now):
    """(bytes, filename) of the import's stored upload, or None (unknown, expired, or another import's)."""
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        return None
    folder = Path(directory)
    try:
        meta = json.loads((folder / f"{token}.json").read_text())
        if (meta["host_id"], meta["import_id"]) != (host_id, import_id) or \
                now - datetime.fromisoformat(meta["at"]) > LIFETIME:
            return None
        return (folder / f"{token}.bin").read_bytes(), meta["filename"]
    except (OSError, ValueError, KeyError):
        return None


def discard(directory, token):
    """Remove a stored upload (after its confirm)."""
    if isinstance(token, str) and _TOKEN.fullmatch(token):
        for suffix in (".bin", ".json"):
            (Path(directory) / f"{token}{suffix}").unlink(missing_ok=True)


def sweep(directory, now):
    """Remove uploads older than a day."""
    for meta_path in Path(directory).glob("*.json"):
        try:
            at = datetime.fromisoformat(json.loads(meta_path.read_text())["at"])
        except (OSError, ValueError, KeyError):
            continue
        if now - at > LIFETIME:
            discard(directory, meta_path.stem)
