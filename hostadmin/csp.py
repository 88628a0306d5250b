"""The Content-Security-Policy: scripts and styles from this site only (plus Plaid Link), never inline."""
from functools import lru_cache
from urllib.parse import urlsplit

from flask import current_app


def _origin(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@lru_cache(maxsize=8)
def _policy(link_origin, plaid_api_origin):
    directives = {
        "default-src": "'self'",
        # Plaid Link: its script, the iframe it opens, and (real Plaid) the API that iframe's page calls.
        "script-src": f"'self' {link_origin}",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "connect-src": " ".join(dict.fromkeys(["'self'", plaid_api_origin])),
        "frame-src": link_origin,
        "frame-ancestors": "'none'",
        "form-action": "'self'",
        "base-uri": "'none'",
        "object-src": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def content_security_policy():
    """The header value for this app's configuration (the Plaid origins depend on PLAID_ENV/PLAID_HOST)."""
    from hostadmin.banking.service import link_script_url

    config = current_app.config
    if config["PLAID_ENV"] == "local":
        api = "'self'"  # the emulator's Link page talks to the emulator from its own frame
    else:
        api = _origin(config.get("PLAID_HOST") or f"https://{config['PLAID_ENV']}.plaid.com")
    return _policy(_origin(link_script_url()), api)
