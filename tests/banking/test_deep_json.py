"""JSON from Plaid nested deeper than Python's stack allows is a malformed response, not a crash."""
import plaid
import pytest

from hostadmin.banking.decode import InvalidLine, MalformedResponse, decode_page, decode_transaction
from hostadmin.banking.plaid_client import plaid_error

DEEP = b"[" * 30_000 + b"]" * 30_000


def test_a_deeply_nested_sync_page_is_a_malformed_response():
    with pytest.raises(MalformedResponse):
        decode_page(b'{"added": [], "extra": ' + DEEP + b"}")


def test_a_deeply_nested_transaction_is_an_invalid_line():
    with pytest.raises(InvalidLine):
        decode_transaction(b'{"transaction_id": "t", "extra": ' + DEEP + b"}")


def test_a_deeply_nested_error_body_is_read_as_not_json():
    exc = plaid.ApiException(status=400)
    exc.body = (b'{"error_code": ' + DEEP + b"}").decode()
    assert plaid_error(exc) == (None, None, "HTTP 400 with a non-JSON body")


def test_a_deeply_nested_key_response_is_refused_as_a_malformed_key_fetch(app):
    """plaid-python parses the response itself: its RecursionError must count as a malformed response."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from hostadmin.banking.plaid_client import build_client
    from hostadmin.webhooks.keys import KeyUnavailable, fetch_from_plaid

    class Deep(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            body = b'{"request_id": "r", "key": ' + DEEP + b"}"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Deep)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        app.extensions["plaid"] = build_client({**app.config, "PLAID_HOST": f"http://127.0.0.1:{server.server_port}"})
        with pytest.raises(KeyUnavailable, match="malformed response: RecursionError"):
            fetch_from_plaid("some-kid")
    finally:
        server.shutdown()
        app.extensions.pop("plaid", None)
