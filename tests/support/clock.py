"""A frozen, steppable clock injected as app.config["CLOCK"]."""
from datetime import datetime, timedelta, timezone

DEFAULT_NOW = datetime(2026, 11, 20, 15, 30, tzinfo=timezone.utc)


class FrozenClock:
    """Returns the same instant until a test moves it."""

    def __init__(self, now=DEFAULT_NOW):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, **kwargs):
        self.now += timedelta(**kwargs)
        return self.now
