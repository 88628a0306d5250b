"""Authentication, session invalidation, and user/membership management."""
from flask import current_app
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from hostadmin.auth import throttle
from hostadmin.auth.models import HostMember, Role, User
from hostadmin.extensions import db
from hostadmin.ledger.accounts import ValidationError
from hostadmin.ledger.models import Host

_dummy_hashes = {}


def hash_password(password):
    """Hash a password with the configured method (scrypt unless a test lowers it)."""
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    return generate_password_hash(password, method=method)


def dummy_hash():
    """A hash made like real ones, checked when the email is unknown so both paths cost the same."""
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    if method not in _dummy_hashes:
        _dummy_hashes[method] = hash_password("not-a-real-password")
    return _dummy_hashes[method]


def authenticate(email, password, remote_addr):
    """The active user with these credentials, or None; raises throttle.LoginThrottled when rate limited.

    A wrong password and an unknown email look the same to the caller.
    """
    email = (email or "").strip().lower()
    throttle.take_attempt(email, remote_addr)
    user = db.session.scalar(select(User).where(User.email == email)) if email else None
    ok = check_password_hash(user.password_hash if user else dummy_hash(), password or "")
    if user and ok and user.is_active:
        throttle.forget_failures(email, remote_addr)
        return user
    return None


def end_sessions(user):
    """End every session of the user, on every device: their cookies name the old version."""
    user.session_version = User.session_version + 1
    db.session.flush()
    db.session.refresh(user, ["session_version"])


def change_password(user, password):
    """Set a new password; every existing session ends."""
    _check_password(password)
    user.password_hash = hash_password(password)
    end_sessions(user)


def deactivate(user):
    """The user can no longer sign in; every existing session ends."""
    user.active = False
    end_sessions(user)


def _check_password(password):
    if not password or len(password) < 8:
        raise ValidationError("password must be at least 8 characters", "password")


def create_user(email, password, host_slug, role, name=""):
    """Create a user who is a member of `host_slug` with `role`; returns the user."""
    email = (email or "").strip().lower()
    if "@" not in email or len(email) > 254:
        raise ValidationError("a valid email address is required", "email")
    try:
        role = Role((role or "").upper())
    except ValueError:
        raise ValidationError(f"role must be ADMIN or ACCOUNTANT, not {role!r}", "role") from None
    _check_password(password)
    host = db.session.scalar(select(Host).where(Host.slug == host_slug))
    if host is None:
        raise ValidationError(f"no host with slug {host_slug!r}", "host")
    if db.session.scalar(select(User).where(User.email == email)):
        raise ValidationError(f"a user with email {email} already exists", "email")
    user = User(email=email, name=name, password_hash=hash_password(password))
    db.session.add(user)
    db.session.flush()
    db.session.add(HostMember(user_id=user.id, host_id=host.id, role=role.value))
    db.session.flush()
    return user


def membership(user, host):
    """The user's membership of `host`, or None."""
    return db.session.scalar(select(HostMember).where(
        HostMember.user_id == user.id, HostMember.host_id == host.id))


def hosts_of(user):
    """The hosts the user is a member of, by name."""
    return db.session.scalars(
        select(Host).join(HostMember, HostMember.host_id == Host.id)
        .where(HostMember.user_id == user.id).order_by(Host.name)).all()
