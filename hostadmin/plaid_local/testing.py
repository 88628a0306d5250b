"""In-process emulator server and webhook receiver for test suites."""
import http.server
import threading
from types import SimpleNamespace

from werkzeug.serving import WSGIRequestHandler, make_server

from . import create_app, firing


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # per-request lines drown test output
        pass


class EmulatorServer:
    """Serve the emulator on 127.0.0.1 with an ephemeral port in a background thread.

    with EmulatorServer(tmp_path / "plaid.sqlite3") as plaid:
        client = plaid.plaid_client()
        item = plaid.link_item(webhook=receiver.url)
        plaid.add_transactions(item.item_id, count=20, seed=1)
    """

    def __init__(self, state_path, **config):
        self.config = {"STATE_PATH": str(state_path), "WEBHOOK_RETRY_SCALE": 0.001}
        self.config.update({key.upper(): value for key, value in config.items()})
        self.app = None
        self.url = None
        self._server = None
        self._thread = None

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> "EmulatorServer":
        """Build the app and start serving."""
        self.app = create_app(self.config)
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True,
                                   request_handler=_QuietHandler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        if not self.app.config.get("PUBLIC_URL"):
            self.app.config["PUBLIC_URL"] = self.url
        # A short poll interval keeps shutdown (and so every test's teardown) fast.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,),
                                        name="plaid-local-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, stop webhook delivery and close the database."""
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=10)
            self._server = None
        if self.app:
            self.emulator.close()

    def restart(self) -> "EmulatorServer":
        """Stop and start again on the same state file (a new port)."""
        self.stop()
        return self.start()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def emulator(self):
        """The Emulator service object behind the server."""
        return self.app.extensions["plaid_local"]

    # -- plaid-python ----------------------------------------------------------
    def plaid_client(self, client_id: str | None = None, secret: str | None = None):
        """Return a real plaid_api.PlaidApi pointed at this server."""
        import plaid
        from plaid.api import plaid_api
        cfg = plaid.Configuration(host=self.url, api_key={
            "clientId": client_id or self.app.config["CLIENT_ID"],
            "secret": secret or self.app.config["SECRET"], "plaidVersion": "2020-09-14"})
        return plaid_api.PlaidApi(plaid.ApiClient(cfg))

    def link_item(self, institution_id: str = "ins_109508", *, webhook: str | None = None,
                  client=None, **options) -> SimpleNamespace:
        """Create an Item through /sandbox/public_token/create and exchange it via plaid-python."""
        from plaid.model.item_public_token_exchange_request import (
            ItemPublicTokenExchangeRequest)
        from plaid.model.products import Products
        from plaid.model.sandbox_public_token_create_request import (
            SandboxPublicTokenCreateRequest)
        from plaid.model.sandbox_public_token_create_request_options import (
            SandboxPublicTokenCreateRequestOptions)
        client = client or self.plaid_client()
        opts = dict(options)
        if webhook:
            opts["webhook"] = webhook
        request = SandboxPublicTokenCreateRequest(
            institution_id=institution_id, initial_products=[Products("transactions")],
            options=SandboxPublicTokenCreateRequestOptions(**opts))
        public_token = client.sandbox_public_token_create(request).public_token
        exchanged = client.item_public_token_exchange(
            ItemPublicTokenExchangeRequest(public_token=public_token))
        return SimpleNamespace(item_id=exchanged.item_id, access_token=exchanged.access_token)

    # -- control helpers -------------------------------------------------------
    def create_item(self, institution_id: str = "ins_109508", **kwargs) -> SimpleNamespace:
        """Create an Item directly (kwargs as Emulator.create_item, e.g. ready=False)."""
        item_id = self.emulator.create_item(institution_id, **kwargs)
        return SimpleNamespace(item_id=item_id,
                               access_token=self.emulator.item(item_id)["access_token"])

    def busy_host(self, total: int = 100_000, **kwargs) -> SimpleNamespace:
        """Create an Item with `total` transactions over two years."""
        item_id = self.emulator.busy_host(total, **kwargs)
        return SimpleNamespace(item_id=item_id,
                               access_token=self.emulator.item(item_id)["access_token"])

    def add_transactions(self, item_id: str, count: int = 0, **kwargs) -> list[str]:
        """Add realistic (count, seed) and/or explicit (specs=[...]) transactions."""
        return self.emulator.add_transactions(item_id, count=count, **kwargs)

    def modify_transaction(self, transaction_id: str, **changes) -> dict:
        """Modify a transaction (amount, name, date, merchant_name)."""
        return self.emulator.modify_transaction(transaction_id, **changes)

    def remove_transactions(self, *transaction_ids: str) -> None:
        """Remove transactions."""
        self.emulator.remove_transactions(list(transaction_ids))

    def post_pending(self, *transaction_ids: str, **kwargs) -> list[str]:
        """Post pending transactions; returns the posted ids."""
        return self.emulator.post_pending(list(transaction_ids), **kwargs)

    def transactions(self, item_id: str) -> dict[str, dict]:
        """The Item's current transactions by id."""
        return self.emulator.transactions(item_id)

    def new_account(self, item_id: str) -> str:
        """Open a not-yet-shared account (NEW_ACCOUNTS_AVAILABLE)."""
        return self.emulator.add_account(item_id)

    def share_accounts(self, item_id: str, *account_ids: str) -> None:
        """Share accounts as update-mode Link does."""
        self.emulator.share_accounts(item_id, list(account_ids))

    def set_ready(self, item_id: str, ready: bool = True) -> None:
        """Mark a not-ready Item ready."""
        self.emulator.set_ready(item_id, ready)

    def force_mutation(self, item_id: str) -> None:
        """Fail the next paginated sync read with the mutation error."""
        self.emulator.force_mutation(item_id)

    def reset_login(self, item_id: str) -> None:
        """Put the Item into ITEM_LOGIN_REQUIRED."""
        self.emulator.reset_login(item_id)

    def repair_login(self, item_id: str) -> None:
        """Repair the login (LOGIN_REPAIRED)."""
        self.emulator.repair_login(item_id)

    def fire_webhook(self, item_id: str, code: str = "SYNC_UPDATES_AVAILABLE",
                     defect: str | None = None) -> list[int]:
        """Queue a webhook, optionally with a defect; returns outbox ids."""
        return firing.fire(self.emulator, item_id, code, None, defect)

    def arm_webhook_defect(self, item_id: str, defect: str) -> None:
        """Make the Item's next webhook defective."""
        self.emulator.arm_webhook_defect(item_id, defect)

    def rotate_key(self) -> str:
        """Rotate the signing key; returns the new kid."""
        return self.emulator.keys.rotate()

    def outbox(self, item_id: str | None = None, status: str | None = None) -> list[dict]:
        """Outbox rows with their attempt logs."""
        return self.emulator.outbox.rows(item_id, status)

    def deliver_webhooks(self, force: bool = True) -> int:
        """Deliver pending webhooks synchronously; returns attempts made."""
        return self.emulator.outbox.deliver_due(force=force)

    def fail_next(self, endpoint: str, error_code: str = "INTERNAL_SERVER_ERROR",
                  count: int | None = 1) -> None:
        """Answer the next `count` calls to `endpoint` with a Plaid error."""
        self.emulator.faults.arm(endpoint, "error", error_code=error_code, count=count)

    def delay_next(self, endpoint: str, seconds: float, count: int | None = 1) -> None:
        """Delay the next `count` calls to `endpoint`."""
        self.emulator.faults.arm(endpoint, "delay", delay=seconds, count=count)

    def malform_next(self, endpoint: str, drop_key: str = "request_id",
                     count: int | None = 1) -> None:
        """Drop a required key from the next `count` responses of `endpoint`."""
        self.emulator.faults.arm(endpoint, "malformed", drop_key=drop_key, count=count)

    def clear_faults(self) -> None:
        """Disarm every fault."""
        self.emulator.faults.clear()


class WebhookReceiver:
    """A tiny HTTP server that records webhooks and answers with scripted status codes."""

    def __init__(self, statuses=(200,), headers: dict | None = None):
        self.statuses = list(statuses)
        self.headers = headers or {}
        self.received = []  # [(headers dict, raw body bytes)]
        self._lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server API)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    receiver.received.append((dict(self.headers), body))
                    status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 \
                        else receiver.statuses[0]
                self.send_response(status)
                for key, value in receiver.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}/webhooks/plaid"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,),
                                        daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def bodies(self) -> list[bytes]:
        """Raw bodies received so far."""
        with self._lock:
            return [body for _, body in self.received]


class MutableClock:
    """A controllable CLOCK for the emulator: starts at `start`, moves only when told."""

    def __init__(self, start=None):
        from datetime import datetime, timezone
        self._now = start or datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
        self._lock = threading.Lock()

    def __call__(self):
        with self._lock:
            return self._now

    def advance(self, seconds: float = 0, **delta) -> None:
        """Move time forward by seconds (or timedelta keyword arguments)."""
        from datetime import timedelta
        with self._lock:
            self._now += timedelta(seconds=seconds, **delta)
