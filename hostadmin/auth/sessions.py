"""Sessions that end: the user's session version in every session, and an idle timeout."""
from flask import current_app, flash, session
from flask_login import logout_user

from hostadmin.auth.models import User
from hostadmin.clock import utcnow
from hostadmin.extensions import db

# Refresh the last-seen time at most this often, so most requests do not re-sign the cookie.
SEEN_RESOLUTION_SECONDS = 60


def load_user(session_id):
    """Flask-Login's user loader: the user only while the session's version is the current one."""
    user_id, _, version = (session_id or "").partition(":")
    if not (user_id.isascii() and user_id.isdigit() and version.isascii() and version.isdigit()):
        return None  # a session from before versions existed, or garbage
    user = db.session.get(User, int(user_id))
    if user is None or not user.is_active or user.session_version != int(version):
        return None
    return user


def mark_seen():
    """Record activity now (at sign-in, and by expire_idle_session on later requests)."""
    session["seen"] = int(utcnow().timestamp())


def expire_idle_session():
    """before_request: sign out a session left idle longer than SESSION_IDLE_MINUTES."""
    if "_user_id" not in session:
        return
    now = int(utcnow().timestamp())
    seen = session.get("seen")
    if not isinstance(seen, int) or now - seen > current_app.config["SESSION_IDLE_MINUTES"] * 60:
        logout_user()
        session.pop("seen", None)
        flash("Your session expired. Please sign in again.", "info")
    elif now - seen >= SEEN_RESOLUTION_SECONDS:
        session["seen"] = now
