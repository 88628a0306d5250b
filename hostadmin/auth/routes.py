"""Login and logout."""
import re
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from hostadmin.auth import service, sessions, throttle
from hostadmin.auth.forms import LoginForm
from hostadmin.extensions import db

bp = Blueprint("auth", __name__)
# In a `next` these would split the Location header, or make browsers read "/\host" as another site.
UNSAFE_IN_NEXT = re.compile(r"[\x00-\x20\x7f-\x9f\\]")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("root.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = service.authenticate(form.email.data, form.password.data, request.remote_addr)
        except throttle.LoginThrottled:
            form.form_errors.append("Too many failed attempts. Wait 15 minutes and try again.")
            status = 429
        else:
            if user is not None:
                login_user(user)
                sessions.mark_seen()
                return redirect(_safe_next(request.args.get("next")))
            form.form_errors.append("Email or password is incorrect.")
            status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    service.end_sessions(current_user._get_current_object())
    db.session.commit()
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


def _safe_next(target):
    """Only follow a `next` that is a path on this site: no scheme, host, backslash or control character."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and not UNSAFE_IN_NEXT.search(target):
            return target
    return url_for("root.index")
