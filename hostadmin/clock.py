"""The one place the app reads the time, so tests can freeze it (app.config["CLOCK"])."""
from datetime import datetime, timezone

from flask import current_app, has_app_context


def utcnow() -> datetime:
    """Timezone-aware UTC now, or the frozen time a test configured."""
    if has_app_context():
        clock = current_app.config.get("CLOCK")
        if clock is not None:
            return clock()
    return datetime.now(timezone.utc)
