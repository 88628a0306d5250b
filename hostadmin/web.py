"""Cross-cutting web concerns: the login wall, request ids, error pages, template helpers."""
import logging
import re
import uuid

from flask import current_app, g, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import Markup

from hostadmin.csp import content_security_policy
from hostadmin.extensions import db
from hostadmin.money import format_money

log = logging.getLogger("hostadmin.web")

# Endpoints reachable without signing in. Everything else redirects to the login page.
PUBLIC_ENDPOINTS = frozenset({"auth.login", "static", "webhooks.plaid", "health", "processor_webhooks.stripe",
                              "processor_webhooks.wise", "processor_webhooks.paypal"})
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def require_login():
    """before_request: every page needs a signed-in user except the public endpoints."""
    if request.endpoint in PUBLIC_ENDPOINTS or current_user.is_authenticated:
        return None
    return current_app.login_manager.unauthorized()


def install_request_ids(app):
    """Give every request an id (or keep a sane incoming X-Request-ID) for logs and error pages."""

    @app.before_request
    def assign_request_id():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex[:16]

    @app.after_request
    def add_headers(response):
        response.headers["X-Request-ID"] = getattr(g, "request_id", "-")
        response.headers.setdefault("Content-Security-Policy", content_security_policy())
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors 'none' for old browsers
        response.headers.setdefault("Referrer-Policy", "same-origin")
        # Pages and their htmx fragments share URLs: every response says so, so caches keep them apart.
        if "HX-Request" not in response.headers.get("Vary", ""):
            response.headers.add("Vary", "HX-Request")
        return response


def install_error_pages(app):
    """Styled pages for 400/403/404/405/429/500; a log line with the request id for 500s."""

    def render_error(status, title, message):
        # After a failed statement PostgreSQL refuses every query of the aborted transaction, and
        # the page itself queries (the signed-in user, the banners): start a clean one first.
        # Nothing an error response left uncommitted is meant to be kept.
        db.session.rollback()
        return render_template("errors/error.html", status=status, title=title, message=message), status

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        log.warning("CSRF failure request_id=%s path=%s reason=%s",
                    getattr(g, "request_id", "-"), request.path, error.description)
        return render_error(400, "Your form has expired",
                            "The security token on this form is missing or out of date. "
                            "Reload the page and try again.")

    @app.errorhandler(400)
    def bad_request(error):
        return render_error(400, "Bad request", "The request could not be understood.")

    @app.errorhandler(403)
    def forbidden(error):
        return render_error(403, "Not allowed", "Your role on this host cannot make changes.")

    @app.errorhandler(404)
    def not_found(error):
        return render_error(404, "Page not found", "There is nothing here, or it is not yours to see.")

    @app.errorhandler(405)
    def method_not_allowed(error):
        return render_error(405, "Method not allowed", "That action is not available here.")

    @app.errorhandler(413)
    def too_large(error):
        return render_error(413, "Too large", "The upload is larger than this server accepts.")

    @app.errorhandler(500)
    def server_error(error):
        original = getattr(error, "original_exception", None) or error
        log.error("Unhandled error request_id=%s path=%s", getattr(g, "request_id", "-"), request.path,
                  exc_info=(type(original), original, original.__traceback__))
        return render_error(500, "Something went wrong",
                            f"The error was logged with reference {getattr(g, 'request_id', '-')}.")


def install_template_helpers(app):
    app.add_template_filter(format_money, "money")

    @app.template_filter("datetime")
    def format_datetime(value):
        return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""

    @app.template_filter("ago")
    def time_ago(value):
        """"3 minutes ago" relative to the app clock."""
        from hostadmin.clock import utcnow
        if value is None:
            return "never"
        seconds = int((utcnow() - value).total_seconds())
        if seconds < 60:
            return "just now"
        for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
            if seconds >= size:
                count = seconds // size
                return f"{count} {unit}{'s' if count != 1 else ''} ago"

    @app.context_processor
    def layout_context():
        return {"current_host": getattr(g, "host", None),
                "current_membership": getattr(g, "membership", None)}

    @app.template_global()
    def htmx_headers():
        from flask_wtf.csrf import generate_csrf
        return Markup('{"X-CSRFToken": "%s"}') % generate_csrf()

    @app.get("/healthz", endpoint="health")
    def health():
        return {"status": "ok"}
