"""One live region for what a triage action did: an out-of-band swap for htmx, the session after a redirect."""
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from flask import current_app, redirect, render_template, request, session
from werkzeug.exceptions import HTTPException

SESSION_KEY = "triage_feedback"


@dataclass
class Feedback:
    message: str
    undo: bool = False  # offer the Undo button (the action is reversible)
    category: str = "success"


def oob(feedback):
    """The live region's new content, swapped out of band next to whatever the response swaps."""
    return render_template("imports/_feedback.html", feedback=feedback, oob=True)


def attach(response, feedback):
    """`response` with the live region's new content appended (htmx swaps it into #feedback)."""
    response.set_data(response.get_data() + oob(feedback).encode())
    return response


def keep(feedback):
    """Remember the feedback for the page the browser is redirected to (no JavaScript)."""
    session[SESSION_KEY] = asdict(feedback)


def pop():
    """The feedback kept for this page, once."""
    data = session.pop(SESSION_KEY, None)
    return Feedback(**data) if isinstance(data, dict) else None


def back(default):
    """Where a form without JavaScript returns: the rows list it was sent from (same site only), else `default`.

    Anything else (a row's own page, a POST's answer) would not be the list, or not answer a GET.
    """
    parts = urlsplit(request.referrer or "")
    if parts.netloc != request.host:
        return default
    try:
        endpoint, _ = current_app.url_map.bind(request.host).match(parts.path, "GET")
    except HTTPException:
        return default
    if endpoint != "imports.rows":
        return default
    return parts.path + (f"?{parts.query}" if parts.query else "")


def redirect_back(feedback, default):
    """Keep the feedback and send the browser back to the list (303: the next request is a GET)."""
    keep(feedback)
    return redirect(back(default), 303)
