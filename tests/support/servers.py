"""A WSGI callable served on 127.0.0.1 in a thread: a stand-in for a processor's API in tests."""
import contextlib
import threading

from werkzeug.serving import make_server


@contextlib.contextmanager
def serving(wsgi_app):
    """Serve `wsgi_app` while the block runs; yields its base URL (http://127.0.0.1:<port>)."""
    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
