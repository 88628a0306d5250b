"""axe-core on every main page: no serious or critical accessibility violations, for an admin and at phone width.

axe-core is vendored from the npm registry (tests/browser/vendor, version in the file name) and run in the page
through Playwright's evaluate, which the app's Content-Security-Policy does not apply to.
"""
from pathlib import Path

import pytest

from hostadmin.imports import service
from hostadmin.ledger import accounts
from tests.factories import (
    make_bank_account, make_collective, make_contributor, make_host, make_import, make_import_row, make_payee,
    make_user,
)

pytestmark = pytest.mark.browser

AXE_VERSION = "4.14.1"
AXE = Path(__file__).parent / "vendor" / f"axe-core-{AXE_VERSION}.min.js"
BLOCKING = ("serious", "critical")


@pytest.fixture
def river(db):
    host = make_host(slug="river", name="River Host")
    rowers = make_collective(host, "River Rowers")
    account = make_bank_account(host, "Checking", default_collective=rowers)
    imp = make_import(host, "River checking", bank_account=account)
    rows = [make_import_row(imp, amount=amount, bank_account=account, description=f"Line {n}")
            for n, amount in enumerate((2500, -1200, 900))]
    admin = make_user(host)
    db.session.commit()
    service.add_funds(host, admin, rows[2], collective=rowers, contributor=make_contributor(host))
    expense = accounts.create_expense(host, collective=rowers, payee=make_payee(host), amount=500)
    statement = make_import(host, "Statement", source="CSV")
    db.session.commit()
    return {"admin": admin, "imp": imp, "rows": rows, "order_id": rows[2].order_id, "expense": expense,
            "group": rows[2].ledger_group_id, "statement": statement}


def pages(river):
    return ["/h/river/", f"/h/river/imports/{river['imp'].id}/rows", "/h/river/imports/rows?status=ALL",
            "/h/river/imports/", "/h/river/ledger/", "/h/river/collectives/river-rowers", "/h/river/webhooks/",
            "/h/river/connections/", "/h/river/reports/", "/h/river/reports/audit", "/h/river/contributions/",
            "/h/river/expenses/", "/h/river/processors/", "/h/river/imports/assignments", "/h/river/settings",
            "/h/river/funds/add", "/h/river/funds/revert",
            f"/h/river/imports/row/{river['rows'][0].id}/panel/add_funds",
            f"/h/river/imports/row/{river['rows'][2].id}/panel/unlink",
            f"/h/river/contributions/{river['order_id']}", f"/h/river/expenses/{river['expense'].id}",
            "/h/river/contributions/new", "/h/river/expenses/new", f"/h/river/funds/{river['order_id']}/edit",
            f"/h/river/ledger/groups/{river['group']}", f"/h/river/imports/{river['statement'].id}/upload",
            "/h/river/reports/months/2026-11"]


def violations(page):
    """axe's serious and critical violations on the page as drawn, as readable lines."""
    if not page.evaluate("() => !!window.axe"):
        page.evaluate(AXE.read_text())
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes'][0]['target']} "
            f"({v['nodes'][0]['failureSummary']}; {len(v['nodes'])} element(s))"
            for v in result["violations"] if v["impact"] in BLOCKING]


def test_the_vendored_axe_is_the_pinned_version():
    assert AXE.read_text()[:40].startswith(f"/*! axe v{AXE_VERSION}")


def test_the_login_page_has_no_serious_accessibility_violation(page):
    page.goto("/login")
    assert violations(page) == []


@pytest.mark.parametrize("width", [1280, 390])
def test_no_page_has_a_serious_accessibility_violation(logged_in_page, river, width):
    page = logged_in_page(river["admin"])
    page.set_viewport_size({"width": width, "height": 900})
    found = {}
    for url in pages(river):
        response = page.goto(url)
        assert response.status == 200, url
        page.wait_for_load_state("networkidle")
        if problems := violations(page):
            found[url] = problems
    assert not found, "\n".join(f"{url}: {problem}" for url, problems in found.items() for problem in problems)
