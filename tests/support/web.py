"""Test-client helpers: CSRF tokens and signing in through the real login form."""
import re

from flask import g, has_app_context
from flask.testing import FlaskClient

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class Client(FlaskClient):
    """A test client that can sign in and fetch a CSRF token the way a browser would."""

    def open(self, *args, **kwargs):
        # Requests reuse the `app` fixture's app context, and with it `g`: drop what Flask-Login
        # and Flask-WTF cache there, so each request reads its own cookie (another client's
        # user or CSRF token would otherwise leak into it).
        if has_app_context():
            for name in ("_login_user", "csrf_token"):
                g.pop(name, None)
        return super().open(*args, **kwargs)

    def csrf_token(self, path="/login"):
        page = self.get(path, follow_redirects=True).get_data(as_text=True)
        match = CSRF_META.search(page)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def login(self, email, password, **kwargs):
        """POST the login form; kwargs (environ_base, headers) go to both requests."""
        page = self.get("/login", **kwargs).get_data(as_text=True)
        token = CSRF_META.search(page).group(1)
        return self.post("/login", data={"email": email, "password": password, "csrf_token": token},
                         **kwargs)

    def post_with_csrf(self, path, data=None, htmx=False, **kwargs):
        """POST as the app's own pages do: form field for forms, header for htmx."""
        token = self.csrf_token("/")
        data = dict(data or {})
        headers = kwargs.pop("headers", {})
        if htmx:
            headers.update({"HX-Request": "true", "X-CSRFToken": token})
        else:
            data["csrf_token"] = token
        return self.post(path, data=data, headers=headers, **kwargs)
