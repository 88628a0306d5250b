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
    "CONTROL_ALLOW_REMOTE": False,  # /_emulator/ answers loopback callers only unless set
}
_FLOATS = ("WEBHOOK_RETRY_SCALE", "WEBHOOK_TIMEOUT")
_INTS = ("WEBHOOK_MAX_ATTEMPTS",)


def load_config(config: dict | None = None) -> dict:
    """Merge defaults, PLAID_LOCAL_* environment variables and explicit config."""
    merged = dict(DEFAULTS)
    for key in DEFAULTS:
        value = os.environ.get(f"PLAID_LOCAL_{key}")
        if value is None or key == "CLOCK":
            continue
        if key in _FLOATS:
            value = float(value)
        elif key in _INTS:
            value = int(value)
        elif key == "CONTROL_ALLOW_REMOTE":
            value = value.lower() in ("1", "true", "yes")
        merged[key] = value
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
    app.teardown_appcontext(lambda exc: emulator.store.release())
    register_blueprints(app)
    register_errorhandlers(app)
    from .cli import emulator_cli
    app.cli.add_command(emulator_cli)
    if app.config["WEBHOOK_DELIVERY"] == "thread":
        emulator.outbox.start()
    return app


def register_errorhandlers(app: Flask) -> None:
    """Unknown paths and methods answer with a PlaidError body, as Plaid's API does."""
    from .errors import PlaidAPIError
    from .wire import error_response

    def not_found(exc):
        return error_response(PlaidAPIError("NOT_FOUND", f"{exc.code} {exc.name}"))
    app.register_error_handler(404, not_found)
    app.register_error_handler(405, not_found)


def register_blueprints(app: Flask) -> None:
    """Plaid endpoints, the /_emulator control API and the Link page."""
    from . import api, api_sandbox, api_transactions, control, link
    for module in (api, api_transactions, api_sandbox, control, link):
        app.register_blueprint(module.bp)
