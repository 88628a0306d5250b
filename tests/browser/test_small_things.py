"""Small things from the walk: a run linked from Webhooks is highlighted, the unlink reason fits its box."""
import pytest
from playwright.sync_api import expect

from hostadmin.banking.sync import import_of
from hostadmin.imports import service
from hostadmin.imports.models import ImportRun
from tests.factories import (
    make_bank_account, make_collective, make_contributor, make_host, make_import, make_import_row, make_user,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def river(db, clock):
    host = make_host(slug="river", name="River Host")
    rowers = make_collective(host, "River Rowers")
    account = make_bank_account(host, "Checking")
    runs = []
    for outcome in ("SUCCEEDED", "FAILED", "SUCCEEDED"):
        run = ImportRun(import_id=import_of(account.item).id, host_id=host.id, trigger="webhook", outcome=outcome,
                        started_at=clock.now, finished_at=clock.now)
        db.session.add(run)
        runs.append(run)
    imp = make_import(host, "Statement", source="CSV")
    row = make_import_row(imp, amount=2500)
    admin = make_user(host)
    db.session.commit()
    service.add_funds(host, admin, row, collective=rowers, contributor=make_contributor(host))
    return {"admin": admin, "item": account.item, "runs": runs, "row": row, "imp": imp}


def test_the_run_a_link_points_at_is_highlighted(logged_in_page, river):
    page = logged_in_page(river["admin"])
    target = river["runs"][1]
    page.goto(f"/h/river/connections/{river['item'].id}#run-{target.id}")
    highlighted = page.locator(f"#run-{target.id}")
    assert highlighted.evaluate("el => getComputedStyle(el).outlineStyle") == "solid"
    other = page.locator(f"#run-{river['runs'][0].id}")
    assert other.evaluate("el => getComputedStyle(el).outlineStyle") == "none"


@pytest.mark.parametrize("width", [1280, 390])
def test_the_unlink_reason_fits_its_box(logged_in_page, river, width):
    page = logged_in_page(river["admin"])
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"/h/river/imports/{river['imp'].id}/rows?status=LINKED")
    page.locator(f"#row-{river['row'].id}").get_by_role("button", name="Unlink").click()
    reason = page.get_by_label("Reason")
    expect(reason).to_have_value("Linked to the wrong bank line")
    scroll, client = reason.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert scroll <= client  # the whole sentence shows
    box = reason.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
