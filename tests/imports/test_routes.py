"""Triage over HTTP: fragments for htmx, authorisation, CSRF, and what each response shows."""
import io
import re
from html import unescape

import pytest

from hostadmin.auth.models import Role
from hostadmin.imports import service
from hostadmin.imports.models import ImportRow, TransactionsImport
from hostadmin.ledger.models import Order
from tests.factories import (
    make_bank_account, make_collective, make_contributor, make_host, make_import, make_import_row, make_user,
)

HX = {"HX-Request": "true"}


@pytest.fixture
def world(db):
    river, lake = make_host(slug="river"), make_host(slug="lake")
    rowers = make_collective(river, "River Rowers")
    account = make_bank_account(river, "Checking", default_collective=rowers)
    imp = make_import(river, "River checking", bank_account=account)
    rows = [make_import_row(imp, amount=1000 * (i + 1), description=f"Deposit {i}", bank_account=account)
            for i in range(3)]
    theirs = make_import_row(make_import(lake, "Lake checking"), description="Lake deposit")
    people = {"admin": make_user(river), "accountant": make_user(river, Role.ACCOUNTANT)}
    db.session.commit()
    return {"imp": imp, "rows": rows, "theirs": theirs, "rowers": rowers, "river": river, **people}


def test_rows_page_full_and_as_an_htmx_fragment(client, login_as, world):
    login_as(world["admin"])
    url = f"/h/river/imports/{world['imp'].id}/rows?q=deposit+2"
    page = client.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html and "Deposit 2" in html and "Deposit 1" not in html
    assert "HX-Request" in page.headers["Vary"]
    fragment = client.get(url, headers=HX)
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and body.lstrip().startswith('<div id="results">') and "Deposit 2" in body
    assert "HX-Request" in fragment.headers["Vary"]


def test_imports_list_shows_counts_by_status(client, login_as, world):
    login_as(world["admin"])
    html = client.get("/h/river/imports/").get_data(as_text=True)
    assert "River checking" in html and "Lake checking" not in html
    assert '<td class="num" data-count="PENDING">3</td>' in html


def test_ignore_swaps_only_the_row_and_refreshes_counts(client, login_as, world):
    login_as(world["admin"])
    row = world["rows"][0]
    response = client.post_with_csrf(f"/h/river/imports/row/{row.id}/ignore", htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.lstrip().startswith(f'<tbody id="row-{row.id}"')
    assert "ignored" in body and response.headers["HX-Trigger"] == "counts-changed"
    counts = client.get(f"/h/river/imports/{world['imp'].id}/counts?status=PENDING", headers=HX)
    assert 'data-count="IGNORED">1<' in counts.get_data(as_text=True)


def test_refused_action_returns_409_with_the_reason_in_the_row(client, login_as, world, clock, db):
    row = world["rows"][1]
    row.removed_at = clock.now
    db.session.commit()
    login_as(world["admin"])
    response = client.post_with_csrf(f"/h/river/imports/row/{row.id}/link", {"target_id": "1"}, htmx=True)
    assert response.status_code == 409
    assert "cannot be linked" in response.get_data(as_text=True)


def test_add_funds_from_the_form(client, login_as, world, db):
    login_as(world["admin"])
    row = world["rows"][2]
    panel = client.get(f"/h/river/imports/row/{row.id}/panel/add_funds", headers=HX).get_data(as_text=True)
    assert f'<option value="{world["rowers"].id}" selected>River Rowers</option>' in panel  # the assignment
    response = client.post_with_csrf(f"/h/river/imports/row/{row.id}/add-funds", {
        "collective": world["rowers"].id, "contributor": "", "new_name": "Ada Lovelace",
        "new_email": "ada@example.com", "description": "Gift"}, htmx=True)
    assert response.status_code == 200 and "linked" in response.get_data(as_text=True)
    db.session.expire_all()
    order = db.session.get(Order, db.session.get(ImportRow, row.id).order_id)
    assert order.from_account.name == "Ada Lovelace" and order.status == "PAID"


def test_another_hosts_rows_and_imports_are_404(client, login_as, world):
    login_as(world["admin"])
    theirs = world["theirs"]
    assert client.post_with_csrf(f"/h/river/imports/row/{theirs.id}/ignore", htmx=True).status_code == 404
    assert client.get(f"/h/river/imports/row/{theirs.id}/panel/note", headers=HX).status_code == 404
    assert client.get(f"/h/river/imports/{theirs.import_id}/rows").status_code == 404
    assert client.get("/h/lake/imports/").status_code == 404
    response = client.post_with_csrf("/h/river/imports/bulk", {"action": "ignore", "row": theirs.id}, htmx=True)
    assert "0 rows ignored" in response.get_data(as_text=True)
    assert theirs.status == "PENDING"


def test_accountant_reads_but_cannot_act(client, login_as, world):
    login_as(world["accountant"])
    row = world["rows"][0]
    page = client.get(f"/h/river/imports/{world['imp'].id}/rows").get_data(as_text=True)
    assert "Deposit 0" in page and "Add funds" not in page and "bulk-form" not in page.split("<table")[0]
    assert client.post_with_csrf(f"/h/river/imports/row/{row.id}/ignore", htmx=True).status_code == 403
    assert client.post_with_csrf("/h/river/imports/bulk", {"action": "ignore", "all_matching": "1"},
                                 htmx=True).status_code == 403
    assert client.get(f"/h/river/imports/row/{row.id}/panel/add_funds", headers=HX).status_code == 403
    assert ImportRow.query.filter_by(status="IGNORED").count() == 0


def test_accountant_sees_no_checkboxes_actions_column_or_action_shortcuts(client, login_as, world):
    login_as(world["accountant"])
    page = client.get(f"/h/river/imports/{world['imp'].id}/rows").get_data(as_text=True)
    assert 'name="row"' not in page and "data-select-page" not in page and ">Actions</th>" not in page
    assert "data-key=" not in page and 'id="undo-button"' not in page and "data-can-act" not in page
    shortcuts = page.split('id="shortcuts"')[1]
    assert "next / previous row" in shortcuts and "ignore" not in shortcuts and "undo" not in shortcuts
    fragment = client.get(f"/h/river/imports/row/{world['rows'][0].id}", headers=HX).get_data(as_text=True)
    assert "Deposit 0" in fragment and "<td" in fragment and 'name="row"' not in fragment


def test_admin_sees_checkboxes_actions_and_every_shortcut(client, login_as, world):
    login_as(world["admin"])
    page = client.get(f"/h/river/imports/{world['imp'].id}/rows").get_data(as_text=True)
    assert 'name="row"' in page and ">Actions</th>" in page and "data-can-act" in page
    assert "undo your last action" in page.split('id="shortcuts"')[1]


def row_html(client, row):
    return client.get(f"/h/river/imports/row/{row.id}", headers=HX).get_data(as_text=True)


def test_each_row_offers_only_the_actions_that_fit_it(client, login_as, world, db, clock):
    login_as(world["admin"])
    pending, ignored, held = world["rows"]
    service.change_status(world["river"], world["admin"], ignored, "ignore")
    service.change_status(world["river"], world["admin"], held, "hold")
    removed = make_import_row(world["imp"], amount=500, removed_at=clock.now)
    linked = make_import_row(world["imp"], amount=700)
    db.session.commit()
    service.add_funds(world["river"], world["admin"], linked, collective=world["rowers"],
                      contributor=make_contributor(world["river"]))

    def buttons(row):
        return set(re.findall(r">(Add funds|Link|Ignore|Hold|Restore|Unlink|Note)<", row_html(client, row)))

    assert buttons(pending) == {"Add funds", "Link", "Ignore", "Hold", "Note"}
    assert buttons(ignored) == {"Hold", "Restore", "Note"}
    assert buttons(held) == {"Add funds", "Link", "Ignore", "Restore", "Note"}
    assert buttons(linked) == {"Unlink", "Note"}
    assert buttons(removed) == {"Note"}


def test_a_linked_row_whose_amount_the_bank_changed_says_the_amounts_now_differ(client, login_as, world, db):
    login_as(world["admin"])
    row = world["rows"][0]
    service.add_funds(world["river"], world["admin"], row, collective=world["rowers"],
                      contributor=make_contributor(world["river"]))
    order = db.session.get(Order, row.order_id)
    assert "amounts now differ" not in row_html(client, row)
    row.amount, row.needs_review = 1250, True  # what a bank sync writes when the line changes after triage
    db.session.commit()
    html = row_html(client, row)
    assert "amounts now differ" in html
    assert f"The bank line is now $12.50; order #{order.id} is $10.00." in html
    listing = client.get(f"/h/river/imports/{world['imp'].id}/rows?status=LINKED").get_data(as_text=True)
    assert "amounts now differ" in listing


def test_an_unlinked_row_no_longer_shows_the_collective_of_its_link(client, login_as, world, db):
    login_as(world["admin"])
    row = world["rows"][0]
    row.collective_id = None
    db.session.commit()
    service.add_funds(world["river"], world["admin"], row, collective=world["rowers"],
                      contributor=make_contributor(world["river"]))
    assert "River Rowers" in row_html(client, row).split('class="status"')[1]
    response = client.post_with_csrf(f"/h/river/imports/row/{row.id}/unlink", {"reason": "Wrong"}, htmx=True)
    assert response.status_code == 200
    assert "River Rowers" not in response.get_data(as_text=True).split('class="status"')[1].split("</td>")[0]


def test_posts_without_csrf_are_refused(client, login_as, world):
    login_as(world["admin"])
    row = world["rows"][0]
    assert client.post(f"/h/river/imports/row/{row.id}/ignore", headers=HX).status_code == 400
    assert client.post("/h/river/imports/bulk", data={"action": "ignore", "all_matching": "1"}).status_code == 400
    assert ImportRow.query.filter_by(status="IGNORED").count() == 0


def test_bulk_ignore_of_a_filtered_set_says_what_happened(client, login_as, world):
    login_as(world["admin"])
    service.add_funds(world["river"], world["admin"], world["rows"][0], collective=world["rowers"],
                      contributor=make_contributor(world["river"]))
    response = client.post_with_csrf(f"/h/river/imports/{world['imp'].id}/bulk",
                                     {"action": "ignore", "all_matching": "1", "status": "ALL", "q": "deposit"},
                                     htmx=True)
    assert "2 rows ignored, 1 skipped because linked." in response.get_data(as_text=True)
    assert response.headers["HX-Trigger"] == "counts-changed"


def test_undo_restores_the_last_ignored_row(client, login_as, world, db):
    login_as(world["admin"])
    row = world["rows"][0]
    client.post_with_csrf(f"/h/river/imports/row/{row.id}/ignore", htmx=True)
    response = client.post_with_csrf("/h/river/imports/undo", htmx=True)
    assert response.headers["HX-Retarget"] == f"#row-{row.id}"
    assert db.session.get(ImportRow, row.id).status == "PENDING"
    nothing = client.post_with_csrf("/h/river/imports/undo", htmx=True)
    assert "Nothing to undo" in nothing.get_data(as_text=True)


def test_new_rows_notice_counts_rows_that_arrived_since(client, login_as, world, db):
    login_as(world["admin"])
    since = max(r.id for r in world["rows"])
    make_import_row(world["imp"], description="Fresh from the bank")
    db.session.commit()
    body = client.get(f"/h/river/imports/{world['imp'].id}/new?since={since}", headers=HX).get_data(as_text=True)
    assert "1 new row —" in body


def test_csv_upload_preview_confirm_and_reupload(client, login_as, world, db):
    login_as(world["admin"])
    created = client.post_with_csrf("/h/river/imports/csv", {"name": "Credit Union", "account": "CU 1"})
    assert created.status_code == 302
    imp = TransactionsImport.query.filter_by(name="Credit Union").one()
    statement = b"Date,Description,Amount,Currency\n2026-11-01,Gift,25.00,USD\n2026-11-02,Oops,x,USD\n"
    token = client.csrf_token("/")
    preview = client.post(f"/h/river/imports/{imp.id}/preview",
                          data={"csrf_token": token, "file": (io.BytesIO(statement), "nov.csv")},
                          content_type="multipart/form-data")
    html = preview.get_data(as_text=True)
    assert 'data-count="new">1<' in html and "Line 3:" in html and ImportRow.query.filter_by(import_id=imp.id).count() == 0
    assert statement.decode() not in html  # the file stays on the server; the page carries a token
    stored = re.search(r'name="token" value="([^"]+)"', html).group(1)
    form = {"token": stored, "date": "Date", "date_format": "%Y-%m-%d", "description": "Description",
            "amount": "Amount", "currency": "Currency"}
    done = client.post_with_csrf(f"/h/river/imports/{imp.id}/import", form)
    assert done.status_code == 302
    assert ImportRow.query.filter_by(import_id=imp.id).count() == 1
    assert done.headers["Location"].endswith(f"/h/river/imports/{imp.id}/rows")  # straight to triage
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "1 new rows imported, 0 already imported, 1 invalid, 0 skipped" in page
    history = client.get(f"/h/river/imports/{imp.id}/upload").get_data(as_text=True)
    assert "nov.csv" in history and "Line 3:" in history  # the history lists the upload and its invalid line
    again = client.post_with_csrf(f"/h/river/imports/{imp.id}/import", form)
    assert again.status_code == 422 and "no longer kept" in again.get_data(as_text=True)


def test_show_more_returns_only_the_next_rows_after_the_cursor(client, login_as, world, db):
    imp = world["imp"]
    for i in range(60):
        make_import_row(imp, description=f"Bulk line {i}")
    db.session.commit()
    login_as(world["admin"])
    first = client.get(f"/h/river/imports/{imp.id}/rows").get_data(as_text=True)
    more_url = re.search(r'hx-get="([^"]*after=[^"]*)"', first).group(1).replace("&amp;", "&")
    more = client.get(more_url, headers=HX).get_data(as_text=True)
    shown_first = first.count('<tbody id="row-')
    shown_more = more.count('<tbody id="row-')
    assert (shown_first, shown_more) == (50, 13) and "<nav" not in more and 'id="more"' not in more


def test_a_row_changed_by_the_bank_shows_its_previous_values(client, login_as, world, db):
    row = world["rows"][0]
    row.needs_review, row.review_reason = True, "Changed by the bank after triage"
    row.previous_values = [{"date": "2026-11-09", "amount": 900, "currency": "USD", "description": row.description,
                            "merchant_name": None, "pending": True, "changed_at": "2026-11-19T08:00:00+00:00"}]
    db.session.commit()
    login_as(world["admin"])
    html = client.get(f"/h/river/imports/{world['imp'].id}/rows?status=REVIEW").get_data(as_text=True)
    assert "changed by bank" in html and "Changed by the bank after triage" in html
    assert "<dt>amount</dt><dd>$9.00</dd>" in html and "<dt>date</dt><dd>2026-11-09</dd>" in html
    assert "<dt>description</dt>" not in html  # unchanged values are not repeated
    response = client.post_with_csrf(f"/h/river/imports/row/{row.id}/review", htmx=True)
    assert response.status_code == 200 and "changed by bank" not in response.get_data(as_text=True)


def test_assign_a_bank_account_to_a_default_collective(client, login_as, world, db):
    from hostadmin.banking.models import BankAccount

    choir = make_collective(world["river"], "Harbour Choir")
    account = BankAccount.query.filter_by(host_id=world["river"].id).one()
    db.session.commit()
    login_as(world["admin"])
    page = client.get("/h/river/imports/assignments").get_data(as_text=True)
    assert "Checking" in page and "Harbour Choir" in page
    response = client.post_with_csrf(f"/h/river/imports/assignments/{account.id}", {"collective": choir.id}, htmx=True)
    assert response.status_code == 200 and "Saved" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(BankAccount, account.id).default_collective_id == choir.id


def test_assign_without_javascript_is_a_form_that_posts_and_comes_back_saying_so(client, login_as, world, db):
    from hostadmin.banking.models import BankAccount

    account = BankAccount.query.filter_by(host_id=world["river"].id).one()
    login_as(world["admin"])
    page = client.get("/h/river/imports/assignments").get_data(as_text=True)
    assert f'method="post" action="/h/river/imports/assignments/{account.id}"' in page
    assert '<noscript><button type="submit">Save</button></noscript>' in page
    response = client.post_with_csrf(f"/h/river/imports/assignments/{account.id}", {"collective": ""})
    assert response.status_code == 303 and response.headers["Location"].endswith("/h/river/imports/assignments")
    after = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"{account.label}: default collective removed." in after
    db.session.expire_all()
    assert db.session.get(BankAccount, account.id).default_collective_id is None


@pytest.mark.parametrize("field, value, message", [
    ("new_name", "N" * 201, "The new contributor's name can be at most 200 characters (this one has 201)."),
    ("new_email", "e" * 250 + "@example.org", "The new contributor's email can be at most 254 characters"),
])
def test_add_funds_refuses_an_over_long_new_contributor_by_field(
        client, login_as, world, db, field, value, message):
    login_as(world["admin"])
    row = world["rows"][0]
    form = {"collective": world["rowers"].id, "new_name": "Ada", "new_email": "", field: value}
    response = client.post_with_csrf(f"/h/river/imports/row/{row.id}/add-funds", form, htmx=True)
    assert response.status_code == 409 and message in unescape(response.get_data(as_text=True))
    db.session.refresh(row)
    assert row.status == "PENDING" and Order.query.count() == 0


def test_nul_and_control_characters_in_text_fields_are_removed_before_storing(client, login_as, world, db):
    login_as(world["admin"])
    row = world["rows"][0]
    client.post_with_csrf(f"/h/river/imports/row/{row.id}/note", {"note": "call\x00 back\x1b\nmonday"},
                          htmx=True)
    client.post_with_csrf("/h/river/imports/csv", {"name": "Credit\x00 Union\x07", "account": "CU\x00 1"})
    client.post_with_csrf("/h/river/collectives", {"name": "Choir\x00 of\x0b Rivers"})
    db.session.refresh(row)
    assert row.note == "call back\nmonday"
    assert TransactionsImport.query.filter_by(name="Credit Union").count() == 1
    assert "Choir of Rivers" in client.get("/h/river/").get_data(as_text=True)
    search = client.get(f"/h/river/imports/{world['imp'].id}/rows?q=Deposit\x00 1")
    assert search.status_code == 200 and 'value="Deposit 1"' in search.get_data(as_text=True)


# --------------------------------------------------------------------------- feedback and forms without JavaScript

def test_an_htmx_action_answers_its_row_and_the_live_regions_message(client, login_as, world):
    login_as(world["admin"])
    row = world["rows"][0]
    body = client.post_with_csrf(f"/h/river/imports/row/{row.id}/hold", htmx=True).get_data(as_text=True)
    assert body.lstrip().startswith(f'<tbody id="row-{row.id}"')
    region = body[body.index('<div id="feedback" hx-swap-oob="innerHTML">'):]
    assert "Row put on hold." in region and 'data-undo' in region and "/imports/undo" in region


def test_without_javascript_an_action_redirects_back_to_the_list_it_came_from(client, login_as, world, db):
    login_as(world["admin"])
    row = world["rows"][0]
    listing = f"http://localhost/h/river/imports/{world['imp'].id}/rows?q=deposit"
    response = client.post_with_csrf(f"/h/river/imports/row/{row.id}/ignore", headers={"Referer": listing})
    assert response.status_code == 303 and response.headers["Location"].endswith(
        f"/h/river/imports/{world['imp'].id}/rows?q=deposit")
    assert db.session.get(ImportRow, row.id).status == "IGNORED"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    region = page[page.index('id="feedback"'):page.index("</div>", page.index('id="feedback"'))]
    assert "Row ignored." in region and 'action="/h/river/imports/undo"' in region
    assert "Row ignored." not in client.get(response.headers["Location"]).get_data(as_text=True)  # said once


def test_without_javascript_a_referrer_elsewhere_returns_to_the_rows_import(client, login_as, world):
    login_as(world["admin"])
    row = world["rows"][0]
    for referer in ("http://evil.example/h/river/imports/rows", f"http://localhost/h/river/imports/row/{row.id}/link",
                    "http://localhost/h/river/"):
        response = client.post_with_csrf(f"/h/river/imports/row/{row.id}/hold", headers={"Referer": referer})
        assert response.headers["Location"] == f"/h/river/imports/{world['imp'].id}/rows", referer
        client.post_with_csrf(f"/h/river/imports/row/{row.id}/restore")


def test_without_javascript_a_panel_is_a_page_and_a_refusal_redraws_it(client, login_as, world):
    login_as(world["admin"])
    row = world["rows"][1]
    page = client.get(f"/h/river/imports/row/{row.id}/panel/link")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html and f'action="/h/river/imports/row/{row.id}/link"' in html
    assert html.count('<tbody id="row-') == 1 and "Back to the list" in html
    refused = client.post_with_csrf(f"/h/river/imports/row/{row.id}/link", {"target_id": ""})
    assert refused.status_code == 422 and "<html" in refused.get_data(as_text=True)
    assert "Give the number to link to." in refused.get_data(as_text=True)


def test_without_javascript_notes_funds_and_undo_post_and_redirect(client, login_as, world, db):
    login_as(world["admin"])
    row = world["rows"][2]
    assert client.post_with_csrf(f"/h/river/imports/row/{row.id}/note", {"note": "call Ada"}).status_code == 303
    response = client.post_with_csrf(f"/h/river/imports/row/{row.id}/add-funds", {
        "collective": world["rowers"].id, "new_name": "Ada Lovelace", "description": "Gift"})
    assert response.status_code == 303 and db.session.get(ImportRow, row.id).status == "LINKED"
    undo = client.post_with_csrf("/h/river/imports/undo")  # a link is undone through its confirmation
    assert undo.status_code == 303 and undo.headers["Location"] == f"/h/river/imports/row/{row.id}/panel/unlink"
    unlink = client.post_with_csrf(f"/h/river/imports/row/{row.id}/unlink", {"reason": "wrong line"})
    assert unlink.status_code == 303 and db.session.get(ImportRow, row.id).status == "PENDING"
    undo = client.post_with_csrf("/h/river/imports/undo")  # then the note
    assert undo.status_code == 303 and db.session.get(ImportRow, row.id).note is None


def test_without_javascript_bulk_posts_and_redirects_with_the_filter(client, login_as, world, db):
    login_as(world["admin"])
    rows = world["rows"]
    response = client.post_with_csrf(f"/h/river/imports/{world['imp'].id}/bulk",
                                     {"action": "hold", "row": [rows[0].id, rows[1].id], "q": "deposit"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/rows?q=deposit")
    assert ImportRow.query.filter_by(status="ON_HOLD").count() == 2
    assert "2 rows put on hold." in client.get(response.headers["Location"]).get_data(as_text=True)


def test_all_matching_above_the_threshold_asks_before_acting(client, login_as, world, db):
    for n in range(21):
        make_import_row(world["imp"], amount=-100, description=f"ATM fee {n}")
    db.session.commit()
    login_as(world["admin"])
    url = f"/h/river/imports/{world['imp'].id}/bulk"
    asked = client.post_with_csrf(url, {"action": "ignore", "all_matching": "1", "q": "atm"}, htmx=True)
    html = unescape(asked.get_data(as_text=True))
    assert 'id="bulk-confirm"' in html and "21 rows match this filter (-$21.00)." in html
    assert "They will move to Ignored" in html and ImportRow.query.filter_by(status="IGNORED").count() == 0
    page = client.post_with_csrf(url, {"action": "ignore", "all_matching": "1", "q": "atm"})  # no JavaScript
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)
    assert 'name="confirmed" value="1"' in page.get_data(as_text=True)
    done = client.post_with_csrf(url, {"action": "ignore", "all_matching": "1", "q": "atm", "confirmed": "1"})
    assert done.status_code == 303 and ImportRow.query.filter_by(status="IGNORED").count() == 21
    few = client.post_with_csrf(url, {"action": "hold", "all_matching": "1", "q": "deposit"}, htmx=True)
    assert "3 rows put on hold." in few.get_data(as_text=True)  # at or under the threshold: at once


def test_mark_reviewed_without_javascript_is_a_form_that_redirects(client, login_as, world, db):
    row = world["rows"][0]
    row.needs_review, row.review_reason = True, "Amount changed by the bank"
    db.session.commit()
    login_as(world["admin"])
    page = client.get(f"/h/river/imports/{world['imp'].id}/rows?status=REVIEW").get_data(as_text=True)
    assert f'method="post" action="/h/river/imports/row/{row.id}/review"' in page
    response = client.post_with_csrf(f"/h/river/imports/row/{row.id}/review")
    assert response.status_code == 303 and db.session.get(ImportRow, row.id).needs_review is False
    assert "Marked reviewed." in client.get(response.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "no-js"])
def test_a_note_saved_on_a_stale_row_is_refused_with_the_current_note_and_the_draft_kept(
        client, login_as, world, db, htmx):
    row = world["rows"][0]
    seen = row.version
    service.set_note(world["river"], world["admin"], row, "Bea's note")
    login_as(world["admin"])
    response = client.post_with_csrf(f"/h/river/imports/row/{row.id}/note",
                                     {"note": "Al's note", "version": str(seen)}, htmx=htmx)
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 409
    assert "changed by someone else meanwhile" in html
    assert "Bea's note" in html  # the row as it is now
    assert ">Al's note</textarea>" in html  # what Al typed is not lost
    assert f'name="version" value="{seen + 1}"' in html
    db.session.expire_all()
    assert db.session.get(ImportRow, row.id).note == "Bea's note"
