"""Edit added funds page: before/after preview (plain POST and htmx), confirm, stale versions, closed months."""
from datetime import datetime, timezone
from html import unescape

import pytest
from sqlalchemy import func, select

from hostadmin.auth.models import Role
from hostadmin.extensions import db
from hostadmin.funds import periods, service
from hostadmin.ledger.models import LedgerTransaction, Order
from tests.factories import PASSWORD, make_collective, make_host, make_user

OCT_3 = datetime(2026, 10, 3, tzinfo=timezone.utc)
NOV_3 = datetime(2026, 11, 3, tzinfo=timezone.utc)


@pytest.fixture
def river(app):
    host = make_host(slug="river", host_fee_bps=500)
    rowers, choir = make_collective(host, "River Rowers"), make_collective(host, "Harbour Choir")
    admin = make_user(host)
    db.session.commit()
    order = service.add_funds(host, admin, collective=rowers, amount=10000, description="Cheque from the fair",
                              cleared_at=NOV_3, contributor_name="Ann Lee")
    return host, rowers, choir, admin, order


def edit_form(order, collective, **overrides):
    return {"collective": str(collective.id), "contributor": "Ann Lee", "amount": "100.00",
            "description": "Cheque from the fair", "cleared_on": "2026-11-03", "host_fee_percent": "5",
            "processor_fee": "", "reason": "Was for the choir", "version": str(order.version), **overrides}


def ledger_count():
    return db.session.scalar(select(func.count()).select_from(LedgerTransaction))


def test_preview_shows_before_and_after_balances_and_rows_and_writes_nothing(river, client, login_as):
    host, rowers, choir, admin, order = river
    login_as(admin)
    page = client.get(f"/h/river/funds/{order.id}/edit").get_data(as_text=True)
    assert 'value="100.00"' in page and 'value="2026-11-03"' in page and "Ann Lee" in page
    written = ledger_count()

    response = client.post_with_csrf(f"/h/river/funds/{order.id}/edit/preview",
                                     edit_form(order, choir, amount="120.00", processor_fee="1.20"))

    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="preview"' in html
    table = html[html.index('id="before-after"'):html.index('id="balances"')]
    assert "River Rowers" in table and "Harbour Choir" in table
    assert "$100.00" in table and "$120.00" in table and "$5.00" in table and "$6.00" in table
    assert "$1.20" in table and "$95.00" in table and "$112.80" in table
    balances = html[html.index('id="balances"'):html.index('id="reversed-rows"')]
    assert balances.index("Harbour Choir") < balances.index("River Rowers")
    assert "$0.00</td><td class=\"num\">$112.80" in balances and "$95.00</td><td class=\"num\">$0.00" in balances
    assert html[html.index('id="reversed-rows"'):].count("<tr>") >= 4 + 4 + 6
    assert "Confirm the correction" in html and 'name="reason" value="Was for the choir"' in html
    assert ledger_count() == written and db.session.get(Order, order.id).status == "PAID"

    fragment = client.post_with_csrf(f"/h/river/funds/{order.id}/edit/preview",
                                     edit_form(order, choir, amount="120.00"), htmx=True)
    text = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and text.lstrip().startswith('<div id="editor">') and "<html" not in text
    assert 'id="preview"' in text
    bad = client.post_with_csrf(f"/h/river/funds/{order.id}/edit/preview", edit_form(order, choir, reason=""),
                                htmx=True).get_data(as_text=True)
    assert bad.lstrip().startswith('<div id="editor">') and "Say why the funds are corrected." in bad


def test_confirm_reverses_and_recreates_and_shows_the_new_contribution(river, client, login_as):
    host, rowers, choir, admin, order = river
    login_as(admin)
    response = client.post_with_csrf(f"/h/river/funds/{order.id}/edit",
                                     edit_form(order, choir, contributor="Bob Roe", host_fee_percent="10"))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/collectives/{choir.slug}")
    db.session.expire_all()
    corrected = db.session.scalar(select(Order).where(Order.id != order.id))
    assert (corrected.to_account_id, corrected.from_account.name, corrected.host_fee_bps) == (choir.id, "Bob Roe", 1000)
    assert db.session.get(Order, order.id).status == "REPLACED"
    assert f"it is now #{corrected.id}" in client.get(response.headers["Location"]).get_data(as_text=True)
    again = client.get(f"/h/river/funds/{order.id}/edit").get_data(as_text=True)
    assert "is replaced: it can no longer be edited" in again and f"#{corrected.id}" in again


def test_a_closed_original_month_is_said_in_the_preview_and_the_reversal_lands_today(app, client, login_as):
    host = make_host(slug="river", host_fee_bps=0)
    rowers, admin = make_collective(host, "River Rowers"), make_user(host)
    db.session.commit()
    order = service.add_funds(host, admin, collective=rowers, amount=10000, description="Old cheque", cleared_at=OCT_3)
    periods.close_month(host, admin, "2026-10")
    login_as(admin)
    form = edit_form(order, rowers, amount="90.00", cleared_on="2026-10-03", host_fee_percent="0",
                     contributor="Anonymous")

    html = unescape(client.post_with_csrf(f"/h/river/funds/{order.id}/edit/preview", form).get_data(as_text=True))

    assert "October 2026 is closed: the reversal lands on today's date, 2026-11-20" in html
    assert client.post_with_csrf(f"/h/river/funds/{order.id}/edit", form).status_code == 302
    rows = db.session.scalars(select(LedgerTransaction).where(LedgerTransaction.is_refund.is_(True))).all()
    assert {r.cleared_at.date().isoformat() for r in rows} == {"2026-11-20"}


def test_two_admins_editing_the_same_contribution_the_second_is_refused_and_sees_the_current_state(
        river, app, client, login_as):
    host, rowers, choir, admin, order = river
    other = make_user(host)
    db.session.commit()
    login_as(admin)
    second = app.test_client()
    assert second.login(other.email, PASSWORD).status_code == 302
    shown = edit_form(order, choir)  # both pages showed version 1

    first = client.post_with_csrf(f"/h/river/funds/{order.id}/edit", shown)
    refused = second.post_with_csrf(f"/h/river/funds/{order.id}/edit", {**shown, "amount": "80.00"})

    assert first.status_code == 302 and refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert "changed by someone else meanwhile" in html and "is replaced: it can no longer be edited" in html
    assert db.session.scalar(select(func.count()).select_from(Order)) == 2  # the second wrote nothing
    assert not db.session.scalar(select(func.count()).where(Order.amount == 8000))


def test_a_stale_preview_is_refused_with_the_form_refilled_from_the_current_state(river, client, login_as):
    host, rowers, choir, admin, order = river
    login_as(admin)
    stale = edit_form(order, choir, version=str(order.version + 5))
    response = client.post_with_csrf(f"/h/river/funds/{order.id}/edit/preview", stale)
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "changed by someone else meanwhile" in html
    assert f'name="version" type="hidden" value="{order.version}"' in html or f'value="{order.version}"' in html


def test_accountants_cannot_open_or_post_the_edit(river, client, login_as):
    host, rowers, choir, admin, order = river
    accountant = make_user(host, role=Role.ACCOUNTANT)
    db.session.commit()
    login_as(accountant)
    assert client.get(f"/h/river/funds/{order.id}/edit").status_code == 403
    assert client.post_with_csrf(f"/h/river/funds/{order.id}/edit", edit_form(order, choir)).status_code == 403
    assert client.post_with_csrf(f"/h/river/funds/{order.id}/edit/preview",
                                 edit_form(order, choir)).status_code == 403


def test_edit_page_survives_arbitrary_text_and_unknown_ids(river, client, login_as):
    host, rowers, choir, admin, order = river
    login_as(admin)
    assert client.get("/h/river/funds/999999/edit").status_code == 404
    junk = {k: "\x00<b>\u202e" for k in edit_form(order, choir)}
    assert client.post_with_csrf(f"/h/river/funds/{order.id}/edit/preview", junk).status_code == 400
    assert client.post_with_csrf(f"/h/river/funds/{order.id}/edit", junk).status_code == 400


def test_batch_revert_page_previews_all_matching_the_filter_then_reverts_them_in_one_go(river, client, login_as):
    host, rowers, choir, admin, order = river
    others = [service.add_funds(host, admin, collective=choir, amount=2000 + i, cleared_at=NOV_3,
                                description=f"Choir cheque {i}") for i in range(3)]
    login_as(admin)
    listing = client.get(f"/h/river/funds/revert?collective={choir.id}").get_data(as_text=True)
    assert "All 3 matching this filter" in listing and listing.count('name="id"') == 3
    junk = client.get("/h/river/funds/revert?q=%00%E2%80%AE&from=soon&collective=x")
    assert junk.status_code == 200 and "No added funds match." in junk.get_data(as_text=True)

    refused = client.post_with_csrf("/h/river/funds/revert/preview", {"collective": str(choir.id), "all": "1"})
    assert refused.status_code == 400 and "a reason is required" in refused.get_data(as_text=True)
    preview = client.post_with_csrf("/h/river/funds/revert/preview",
                                    {"collective": str(choir.id), "all": "1", "reason": "Bounced"})
    html = unescape(preview.get_data(as_text=True))
    assert preview.status_code == 200 and "Preview: revert 3 contributions" in html
    assert "12 ledger rows will be written" in html and "$60.03" in html  # 20.00 + 20.01 + 20.02
    assert ledger_count() == 4 * 4  # the preview kept nothing

    tokens = [f'{o.id}:{o.version}' for o in others]
    assert all(f'value="{t}"' in html for t in tokens)
    done = client.post_with_csrf("/h/river/funds/revert", {"order": tokens, "reason": "Bounced"})
    assert done.status_code == 302
    db.session.expire_all()
    assert {db.session.get(Order, o.id).status for o in others} == {"REFUNDED"}
    assert db.session.get(Order, order.id).status == "PAID"
    again = client.post_with_csrf("/h/river/funds/revert", {"order": tokens, "reason": "Bounced"})
    assert again.status_code == 409 and "changed by someone else meanwhile" in again.get_data(as_text=True)


def test_accountants_cannot_batch_revert(river, client, login_as):
    host, rowers, choir, admin, order = river
    accountant = make_user(host, role=Role.ACCOUNTANT)
    db.session.commit()
    login_as(accountant)
    assert client.get("/h/river/funds/revert").status_code == 403
    assert client.post_with_csrf("/h/river/funds/revert", {"order": f"{order.id}:1", "reason": "x"}).status_code == 403
    assert client.post_with_csrf("/h/river/funds/revert/preview", {"id": str(order.id), "reason": "x"}).status_code == 403
    assert db.session.get(Order, order.id).status == "PAID"
