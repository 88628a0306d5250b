"""Every htmx request a page can make is made here, the way htmx makes it, and its answer is checked.

The test reads the pages (and the fragments they load, recursively) for hx-get and hx-post, sends
each request with the form fields htmx would include, and checks that the answer is a fragment
holding what the swap needs; connect.js's Link-token fetch is made for every Connect button.
A last check compares with the templates: an hx-get or hx-post that no crawled page offered
fails the test, so a new fragment cannot go untested.
"""
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from werkzeug.exceptions import NotFound

from hostadmin.extensions import db
from tests.test_fuzz_routes import build_world
from hostadmin.plaid_local.testing import EmulatorServer

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


class Page(HTMLParser):
    """The htmx elements of a page or fragment, with the form fields htmx would send."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.elements, self.forms, self._open_forms, self._select = [], {}, [], None
        self._textarea, self.link_buttons = None, []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = {key: value or "" for key, value in attrs}
        form = self._open_forms[-1] if self._open_forms else None
        if tag == "form":
            form = {"fields": {}, "attrs": attrs}
            self._open_forms.append(form)
            if attrs.get("id"):
                self.forms[attrs["id"]] = form
        elif form is not None and tag == "input" and attrs.get("name"):
            if attrs.get("type") not in ("checkbox", "radio", "file") or "checked" in attrs:
                form["fields"].setdefault(attrs["name"], attrs.get("value", ""))
        elif form is not None and tag == "select":
            self._select = (form, attrs.get("name"))
        elif self._select and tag == "option":
            form_, name = self._select
            if name and (name not in form_["fields"] or "selected" in attrs):
                form_["fields"][name] = attrs.get("value", "")
        elif form is not None and tag == "textarea":
            self._textarea = (form, attrs.get("name"))
            form["fields"][attrs.get("name")] = ""
        if "hx-get" in attrs or "hx-post" in attrs:
            self.elements.append({"tag": tag, "attrs": attrs, "form": form})
        if "data-token-url" in attrs:  # connect.js fetches a Link token for these buttons
            self.link_buttons.append(attrs)

    def handle_data(self, data):
        if self._textarea:
            form, name = self._textarea
            form["fields"][name] += data

    def handle_endtag(self, tag):
        if tag == "form" and self._open_forms:
            self._open_forms.pop()
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


@pytest.fixture
def world(app, tmp_path):
    with EmulatorServer(tmp_path / "plaid.sqlite3") as plaid:
        client = plaid.plaid_client()
        app.extensions["plaid"] = client
        app.config.update(PLAID_HOST=plaid.url, SYNC_RETRY_BASE_SECONDS=0)
        world = build_world(app, client)
        # Two rows that are not the linked one (the emulator's lines differ from run to run, and the
        # linked deposit can be any of them): one gets "Mark reviewed", the other "Restore".
        unlinked = [row for row in world["rows"] if row.id != world["linked"].id]
        unlinked[3].needs_review = True
        unlinked[4].status = "IGNORED"
        from hostadmin.reports import service as reports
        reports.request_monthly(_river(),
                                world["admin"], "2026-10")  # queued, not run: its progress bar polls
        from hostadmin.statements import background
        background.queue(_river(), world["admin"], world["csv"], "t" * 32, "big.csv", {})  # polls too
        db.session.commit()
        yield world


def _river():
    from hostadmin.ledger.models import Host
    return db.session.query(Host).filter_by(slug="river").one()


def page_urls(world):
    """Every page of the host whose htmx requests are crawled."""
    imp, csv = world["plaid_imp"], world["csv"]
    pages = ["/h/river/", "/h/river/connections/", f"/h/river/connections/{world['item'].id}",
             "/h/river/imports/",
             "/h/river/imports/assignments", f"/h/river/imports/{csv.id}/upload", "/h/river/webhooks/",
             f"/h/river/collectives/{world['rowers'].slug}", "/h/river/funds/add",
             "/h/river/contributions/", "/h/river/contributions/new", f"/h/river/contributions/{world['expected'].id}",
             "/h/river/expenses/", "/h/river/expenses/new", f"/h/river/expenses/{world['expense'].id}",
             "/h/river/ledger/", f"/h/river/ledger/groups/{world['linked'].ledger_group_id}",
             f"/h/river/connections/{world['item'].id}/accounts",
             "/h/river/reports/", "/h/river/reports/months/2026-10", "/h/river/reports/audit",
             "/h/river/settings",
             "/h/river/funds/revert", f"/h/river/funds/{world['linked'].order_id}/edit",
             # The linked row's Unlink panel, named here as well: in two whole-suite runs the crawl did not
             # reach it through the rows pages (it always does alone); see the closing note of issue 9.
             f"/h/river/imports/row/{world['linked'].id}/panel/unlink"]
    for status in ("PENDING", "LINKED", "IGNORED", "REVIEW", "ALL"):
        pages += [f"/h/river/imports/rows?status={status}", f"/h/river/imports/{imp.id}/rows?status={status}"]
    return pages


def expected_marker(element):
    """What the answer must contain for the swap to work: the id it swaps or selects, if any."""
    attrs = element["attrs"]
    if attrs.get("hx-select", "").startswith("#"):
        return 'id="%s"' % attrs["hx-select"][1:]
    swap = attrs.get("hx-swap", "innerHTML").split()[0]
    target = attrs.get("hx-target", "")
    if "fragment=status" in attrs.get("hx-get", ""):  # a connection's status and runs, every 30 s
        return 'id="runs"'
    if "fragment=list" in attrs.get("hx-get", ""):  # the connections list, every 30 s
        return 'data-item="'
    if "after=" in attrs.get("hx-get", ""):  # "Show more": the next rows in place of the button
        return 'id="row-'
    if target in ("#results", "#preview"):  # the filters and the CSV mapping redraw their results
        return 'id="%s"' % target[1:]
    if swap == "outerHTML" and attrs.get("id") and target in ("", "#" + attrs["id"]):
        return 'id="%s"' % attrs["id"]  # an element that refreshes itself (counts, new-rows notice)
    return None


def request_data(element, page):
    """The fields htmx sends: the element's form (or the form it is), hx-include'd forms, hx-vals."""
    data = {}
    if element["form"] is not None:
        data.update(element["form"]["fields"])
    for selector in filter(None, element["attrs"].get("hx-include", "").split(",")):
        form = page.forms.get(selector.strip().lstrip("#"))
        if form:
            data.update(form["fields"])
    if element["attrs"].get("hx-vals"):
        data.update(json.loads(element["attrs"]["hx-vals"]))
    data.pop("csrf_token", None)  # htmx sends the token in the header (hx-headers on <body>)
    return data


def endpoint_of(app, method, url):
    try:
        return app.url_map.bind("localhost").match(urlsplit(url).path, method)[0]
    except NotFound:
        return None


def test_every_htmx_request_of_every_page_answers_a_fragment_with_what_it_swaps(app, world):
    client = world["client"]
    headers = {"HX-Request": "true", "X-CSRFToken": world["csrf"]}
    pages = []
    for url in page_urls(world):
        response = client.get(url)
        assert response.status_code == 200, url
        pages.append(Page(response.get_data(as_text=True)))
    statement = b"Date,Description,Amount,Currency\n2026-11-01,Gift,40.00,USD\n"
    preview = client.post(f"/h/river/imports/{world['csv'].id}/preview",  # the mapping page after an upload
                          data={"csrf_token": world["csrf"], "file": (io.BytesIO(statement), "nov.csv")},
                          content_type="multipart/form-data")
    assert preview.status_code == 200
    pages.append(Page(preview.get_data(as_text=True)))
    seen, requested, posts, all_pages = set(), set(), [], list(pages)
    while pages:  # pages, then the fragments they load (a panel's Cancel, its form), until none is new
        page = pages.pop(0)
        for element in page.elements:
            method = "GET" if "hx-get" in element["attrs"] else "POST"
            target = element["attrs"]["hx-get" if method == "GET" else "hx-post"]
            data = request_data(element, page)
            key = (method, target, tuple(sorted(data)))
            if key in seen:
                continue
            seen.add(key)
            requested.add((method, endpoint_of(app, method, target)))
            if method == "POST":
                posts.append((target, data, element))
                continue
            parts = urlsplit(target)  # htmx adds the fields to the URL's own query
            query = {**dict(parse_qsl(parts.query)), **data}
            answer = client.get(parts.path, query_string=query, headers=headers)
            html = answer.get_data(as_text=True)
            assert answer.status_code in (200, 286), (target, answer.status_code)
            assert html.strip() and "<html" not in html, f"{target} did not answer a fragment"
            marker = expected_marker(element)
            assert marker is None or marker in html, f"{target} lacks {marker}"
            pages.append(Page(html))
            all_pages.append(pages[-1])
    fetched = set()
    for page in all_pages:  # what connect.js posts for a "Connect" / "Reconnect" button
        for button in page.link_buttons:
            body = {"item_id": button["data-item-id"], "purpose": button.get("data-purpose") or "reconnect"} \
                if button.get("data-item-id") else {}
            answer = client.post(button["data-token-url"], data=body,
                                 headers={"X-CSRFToken": world["csrf"], "Accept": "application/json"})
            assert answer.status_code == 200 and answer.get_json()["link_token"].startswith("link-"), body
            fetched.add(tuple(body))
    assert fetched == {(), ("item_id", "purpose")}
    for target, data, element in posts:  # after every GET: these change rows
        answer = client.post(target, data=data, headers=headers)
        html = answer.get_data(as_text=True)
        assert answer.status_code in (200, 204, 409, 422), (target, data, answer.status_code)
        assert "<html" not in html, f"{target} answered a whole page to htmx"
        marker = expected_marker(element)
        if "/row/" in target:
            marker = 'id="row-%s"' % re.search(r"/row/(\d+)", target).group(1)
        assert answer.status_code == 204 or marker is None or marker in html, f"POST {target} lacks {marker}"

    offered = set()
    for path in TEMPLATES.rglob("*.html"):
        for verb, endpoint in re.findall(r"hx-(get|post)=\"\{\{ url_for\('([\w.]+)'", path.read_text()):
            offered.add((verb.upper(), endpoint))
    assert offered - requested == set(), "htmx requests in templates that no crawled page made"
    assert ("GET", "banking.item") in requested and ("GET", "imports.counts") in requested
