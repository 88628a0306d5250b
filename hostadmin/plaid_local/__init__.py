"""Local Plaid emulator: a separate WSGI app that plaid-python cannot tell from Plaid's sandbox."""
import os

from flask import Flask

from .emulator import Emulator

DEFAULTS = {
    "STATE_PATH": "instance/plaid_local.sqlite3",
    "CLIENT_ID": "hostadmin-local",
    "SECRET": "local-secret",
    "ENVIRONMENT": "sandbox",
    "PUBLIC_URL": None,             # its own base URL; default: the request's host URL
    "WEBHOOK_RETRY_SCALE": 1.0,     # multiplies the 30 s ×4 retry schedule (tests: ~0.001)
    "WEBHOOK_MAX_ATTEMPTS": 7,      # the first try plus Plaid's ~6 retries within 24 h
    "WEBHOOK_TIMEOUT": 10.0,
    "WEBHOOK_DELIVERY": "thread",   # "thread" delivers in the background; "manual" waits
    "CLOCK": None,                  # callable returning an aware UTC datetime
}
_FLOATS = ("WEBHOOK_RETRY_SCALE", "WEBHOOK_TIMEOUT")
_INTS = ("WEBHOOK_MAX_ATTEMPTS",)


def load_config(config: dict | None = None) -> dict:
    """Merge defaults, PLAID_LOCAL_* environment variables and explicit config."""
    merged = dict(DEFAULTS)
    for key in DEFAULTS:
        value = os.environ.get(f"PLAID_LOCAL_{key}")
        if value is not None and key != "CLOCK":
            merged[key] = float(value) if key in _FLOATS else int(value) if key in _INTS else value
    merged.update(config or {})
    return merged


def create_app(config: dict | None = None) -> Flask:
    """Build the emulator's Flask app (`flask --app hostadmin.plaid_local run --port 8765`)."""
    app = Flask(__name__)
    app.config.update(load_config(config))
    app.json.sort_keys = False
    emulator = Emulator(app.config["STATE_PATH"], environment=app.config["ENVIRONMENT"],
                        clock=app.config["CLOCK"],
                        retry_scale=float(app.config["WEBHOOK_RETRY_SCALE"]),
                        max_attempts=int(app.config["WEBHOOK_MAX_ATTEMPTS"]),
                        webhook_timeout=float(app.config["WEBHOOK_TIMEOUT"]))
    app.extensions["plaid_local"] = emulator
    register_blueprints(app)
    from .cli import emulator_cli
    app.cli.add_command(emulator_cli)
    if app.config["WEBHOOK_DELIVERY"] == "thread":
        emulator.outbox.start()
    return app


def register_blueprints(app: Flask) -> None:
    """Plaid endpoints, the /_emulator control API and the Link page."""
    from . import api, api_sandbox, api_transactions, control, link
    for module in (api, api_transactions, api_sandbox, control, link):
        app.register_blueprint(module.bp)
