"""The Link script and page driven in Chromium, from a host page on another origin."""
import http.server
import threading

import pytest
from plaid.model.country_code import CountryCode
from plaid.model.item_public_token_exchange_request import ItemPublicTokenExchangeRequest
from plaid.model.link_token_create_request import LinkTokenCreateRequest
from plaid.model.link_token_create_request_user import LinkTokenCreateRequestUser
from plaid.model.products import Products

HOST_PAGE = """<!doctype html><html><body>
<button id="open" disabled>Connect a bank</button>
<script src="%(emulator)s/link/v2/stable/link-initialize.js"></script>
<script>
  window.events = [];
  var handler = Plaid.create({
    token: "%(token)s",
    onSuccess: function (publicToken, metadata) { window.result = {publicToken, metadata}; },
    onExit: function (err, metadata) { window.exited = {err, metadata}; },
    onEvent: function (name) { window.events.push(name); }
  });
  var button = document.getElementById("open");
  button.onclick = function () { handler.open(); };
  button.disabled = false;
</script></body></html>"""

pytestmark = pytest.mark.browser


@pytest.fixture
def chromium(browser):
    """The suite's shared headless Chromium (tests/conftest.py): one Playwright per run."""
    return browser


def serve_host_page(html: str):
    """Serve one HTML page on its own origin, like the app's Connect page."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            data = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    return server


def test_connect_flow_calls_on_success_with_plaid_shaped_metadata(chromium, server, api):
    token = api.link_token_create(LinkTokenCreateRequest(
        client_name="Host Admin", language="en", country_codes=[CountryCode("US")],
        user=LinkTokenCreateRequestUser(client_user_id="host-1"),
        products=[Products("transactions")])).link_token
    host = serve_host_page(HOST_PAGE % {"emulator": server.url, "token": token})
    try:
        page = chromium.new_page()
        page.goto(f"http://localhost:{host.server_port}/")
        page.click("#open")
        frame = page.frame_locator("#plaid-local-link-iframe")
        frame.locator("#institution-ins_109511").check()
        frame.locator("#account-1").uncheck()
        frame.locator("#connect").click()
        page.wait_for_function("window.result !== undefined", timeout=10_000)
        result = page.evaluate("window.result")
        assert page.locator("#plaid-local-link-overlay").count() == 0
        assert "OPEN" in page.evaluate("window.events")
        page.close()
    finally:
        host.shutdown()
        host.server_close()
    meta = result["metadata"]
    assert meta["institution"] == {"name": "Tartan Bank", "institution_id": "ins_109511"}
    assert [a["subtype"] for a in meta["accounts"]] == ["checking", "credit card"]
    exchanged = api.item_public_token_exchange(
        ItemPublicTokenExchangeRequest(public_token=result["publicToken"]))
    assert exchanged.item_id


def test_exit_button_calls_on_exit(chromium, server, api):
    token = api.link_token_create(LinkTokenCreateRequest(
        client_name="Host Admin", language="en", country_codes=[CountryCode("US")],
        user=LinkTokenCreateRequestUser(client_user_id="host-1"),
        products=[Products("transactions")])).link_token
    host = serve_host_page(HOST_PAGE % {"emulator": server.url, "token": token})
    try:
        page = chromium.new_page()
        page.goto(f"http://localhost:{host.server_port}/")
        page.click("#open")
        page.frame_locator("#plaid-local-link-iframe").locator("#exit").click()
        page.wait_for_function("window.exited !== undefined", timeout=10_000)
        assert page.evaluate("window.exited.err") is None
        assert page.locator("#plaid-local-link-overlay").count() == 0
        page.close()
    finally:
        host.shutdown()
        host.server_close()


def test_exit_from_an_invalid_token_reports_the_error(chromium, server, api):
    host = serve_host_page(HOST_PAGE % {"emulator": server.url, "token": "link-sandbox-no-such-token"})
    try:
        page = chromium.new_page()
        page.goto(f"http://localhost:{host.server_port}/")
        page.click("#open")
        frame = page.frame_locator("#plaid-local-link-iframe")
        message = frame.locator("#error").inner_text()
        frame.locator("#exit").click()
        page.wait_for_function("window.exited !== undefined", timeout=10_000)
        error = page.evaluate("window.exited.err")
        page.close()
    finally:
        host.shutdown()
        host.server_close()
    assert error == {"error_code": "INVALID_LINK_TOKEN", "error_message": message}
