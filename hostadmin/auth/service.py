"""Authentication, rate limiting of failed logins, and user/membership management."""
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, or_, select
from werkzeug.security import check_password_hash, generate_password_hash

from hostadmin.auth.models import HostMember, LoginFailure, Role, User
from hostadmin.clock import utcnow
from hostadmin.extensions import db
from hostadmin.ledger.accounts import ValidationError
from hostadmin.ledger.models import Host

# Checked against when the email is unknown, so both paths cost one hash.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="pbkdf2:sha256:1000")


class LoginThrottled(Exception):
    """Too many recent failures for this email or address."""


def hash_password(password):
    """Hash a password with the configured method (scrypt unless a test lowers it)."""
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    return generate_password_hash(password, method=method)


def authenticate(email, password, remote_addr):
    """The active user with these credentials, or None; raises LoginThrottled when rate limited.

    A wrong password and an unknown email look the same to the caller.
    """
    email = (email or "").strip().lower()
    config = current_app.config
    since = utcnow() - timedelta(seconds=config["LOGIN_FAILURE_WINDOW_SECONDS"])
    recent = db.session.scalar(
        select(func.count()).select_from(LoginFailure)
        .where(LoginFailure.at >= since,
               or_(LoginFailure.email == email, LoginFailure.remote_addr == remote_addr)))
    if recent >= config["LOGIN_MAX_FAILURES"]:
        raise LoginThrottled()

    user = db.session.scalar(select(User).where(User.email == email)) if email else None
    ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, password or "")
    if user and ok and user.is_active:
        db.session.execute(delete(LoginFailure).where(LoginFailure.email == email))
        db.session.commit()
        return user
    db.session.add(LoginFailure(email=email[:254], remote_addr=(remote_addr or "")[:64], at=utcnow()))
    db.session.commit()
    return None


def create_user(email, password, host_slug, role, name=""):
    """Create a user who is a member of `host_slug` with `role`; returns the user."""
    email = (email or "").strip().lower()
    if "@" not in email or len(email) > 254:
        raise ValidationError("a valid email address is required", "email")
    try:
        role = Role((role or "").upper())
    except ValueError:
        raise ValidationError(f"role must be ADMIN or ACCOUNTANT, not {role!r}", "role") from None
    if not password or len(password) < 8:
        raise ValidationError("password must be at least 8 characters", "password")
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
