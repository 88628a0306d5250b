"""Payouts are not income: the bank line of a processor's payout is suggested in triage and linked as a transfer.

The contributions behind a payout are in the ledger from their charges; linking the bank line writes no ledger
rows (the money would count twice), takes it out of "to do", and marks the payout matched.
"""
import threading
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from hostadmin.audit.models import AuditEntry
from hostadmin.auth.models import Role, User
from hostadmin.extensions import db
from hostadmin.imports import payouts, service
from hostadmin.imports.models import ImportRow
from hostadmin.ledger.models import Host, LedgerTransaction
from hostadmin.processors.models import ProcessorPayment
from tests.factories import make_host, make_import, make_import_row, make_user
from tests.processors.conftest import fresh, work

HX = {"HX-Request": "true"}
ARRIVAL = datetime(2026, 11, 12, 0, 0, tzinfo=timezone.utc)


def make_payout(host, amount=123456, ref="po_1", arrival=ARRIVAL, currency="USD", processor="stripe"):
    payout = ProcessorPayment(host_id=host.id, processor=processor, ref=ref, kind="PAYOUT", amount=amount,
                              currency=currency, raw_timestamps={}, cleared_field="arrival_date", cleared_at=arrival)
    db.session.add(payout)
    db.session.flush()
    return payout


@pytest.fixture(params=["sqlite", "postgres"])
def any_app(request):
    return request.getfixturevalue("app" if request.param == "sqlite" else "pg_app")


@pytest.fixture
def desk(app):
    river = make_host(slug="river")
    imp = make_import(river, "River checking")
    admin = make_user(river)
    db.session.commit()
    return {"host": river, "imp": imp, "admin": admin}


def line(desk, amount=123456, day=date(2026, 11, 13), **fields):
    row = make_import_row(desk["imp"], amount=amount, date=day, description="STRIPE TRANSFER", **fields)
    db.session.commit()
    return row


def ledger_rows():
    return db.session.scalars(select(LedgerTransaction)).all()


def test_a_stripe_payout_event_is_suggested_on_its_bank_line_and_linked_without_ledger_rows(
        stripe_host, stripe_sender, client, login_as):
    arrival = int(datetime(2026, 11, 18, tzinfo=timezone.utc).timestamp())
    payout = {"id": "po_real", "object": "payout", "amount": 98765, "currency": "usd", "arrival_date": arrival,
              "created": stripe_sender.now() - 86400}
    assert stripe_sender.send("payout.paid", payout).status_code == 200
    work()
    host = fresh(stripe_host)
    imp = make_import(host, "River checking")
    row = make_import_row(imp, amount=98765, date=date(2026, 11, 19), description="STRIPE PAYOUT")
    admin = make_user(host)
    db.session.commit()
    login_as(admin)

    panel = client.get(f"/h/river/imports/row/{row.id}/panel/link", headers=HX).get_data(as_text=True)
    assert "Stripe payout po_real" in panel and "Link as payout" in panel and "1 day apart" in panel

    stored = db.session.scalar(select(ProcessorPayment).where(ProcessorPayment.ref == "po_real"))
    response = client.post_with_csrf(f"/h/river/imports/row/{row.id}/link", {"payout_id": stored.id}, htmx=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Stripe payout po_real (transfer)" in html and "no ledger entries" in html
    db.session.expire_all()
    assert ledger_rows() == []
    assert db.session.get(ImportRow, row.id).status == "LINKED"
    assert db.session.get(ProcessorPayment, stored.id).import_row_id == row.id
    page = client.get("/h/river/processors/").get_data(as_text=True)
    assert f"linked to bank line #{row.id}" in page


@pytest.mark.parametrize("day,suggested", [(date(2026, 11, 12), True), (date(2026, 11, 15), True),
                                           (date(2026, 11, 9), True), (date(2026, 11, 16), False),
                                           (date(2026, 11, 8), False)])
def test_a_payout_is_suggested_only_within_three_days_of_the_bank_date(desk, day, suggested):
    make_payout(desk["host"])
    row = line(desk, day=day)
    found = payouts.suggestions(desk["host"], row)
    assert [s["object"].ref for s in found] == (["po_1"] if suggested else [])
    if suggested:
        assert found[0]["days"] == abs((day - date(2026, 11, 12)).days)


def test_the_arrival_day_is_the_hosts_day_not_utcs(desk):
    desk["host"].timezone = "America/Los_Angeles"
    # 02:00 UTC on the 16th is the evening of the 15th in Los Angeles: 3 days after the 12th, not 4.
    make_payout(desk["host"], arrival=datetime(2026, 11, 16, 2, 0, tzinfo=timezone.utc))
    assert [s["days"] for s in payouts.suggestions(desk["host"], line(desk, day=date(2026, 11, 12)))] == [3]


def test_only_unlinked_payouts_of_the_same_amount_currency_and_host_are_suggested(desk):
    lake = make_host(slug="lake")
    make_payout(desk["host"], amount=123455, ref="po_cent_less")
    make_payout(desk["host"], currency="EUR", ref="po_euro")
    make_payout(lake, ref="po_lake")
    taken = make_payout(desk["host"], ref="po_taken")
    taken.import_row_id = line(desk).id
    make_payout(desk["host"], ref="po_right", arrival=ARRIVAL + timedelta(days=2))
    make_payout(desk["host"], ref="po_closest")
    row = line(desk, day=date(2026, 11, 12))
    assert [s["object"].ref for s in payouts.suggestions(desk["host"], row)] == ["po_closest", "po_right"]


def test_money_going_out_is_never_a_payout(desk):
    make_payout(desk["host"], amount=123456)
    assert payouts.suggestions(desk["host"], line(desk, amount=-123456)) == []
    with pytest.raises(service.TriageError, match="money going out"):
        payouts.link(desk["host"], desk["admin"], line(desk, amount=-123456), 1)


def test_a_payout_of_another_amount_or_host_is_refused_and_nothing_changes(desk):
    lake = make_host(slug="lake")
    theirs = make_payout(lake, ref="po_lake")
    other = make_payout(desk["host"], amount=100, ref="po_small")
    row = line(desk)
    with pytest.raises(service.TriageError, match=f"no payout #{theirs.id} on this host"):
        payouts.link(desk["host"], desk["admin"], row, theirs.id)
    with pytest.raises(service.TriageError, match="The amounts differ"):
        payouts.link(desk["host"], desk["admin"], row, other.id)
    db.session.rollback()
    assert db.session.get(ImportRow, row.id).status == "PENDING"
    assert db.session.get(ProcessorPayment, other.id).import_row_id is None


def test_a_payout_already_linked_to_one_line_is_refused_for_another(desk):
    payout = make_payout(desk["host"])
    first, second = line(desk), line(desk)
    payouts.link(desk["host"], desk["admin"], first, payout.id)
    with pytest.raises(service.TriageError, match=f"already linked to bank line #{first.id}"):
        payouts.link(desk["host"], desk["admin"], second, payout.id)
    db.session.expire_all()
    assert db.session.get(ImportRow, second.id).status == "PENDING"


def test_two_lines_linked_to_one_payout_at_once_link_one(any_app):
    host = make_host(slug="river")
    imp = make_import(host)
    payout = make_payout(host)
    rows = [make_import_row(imp, amount=123456, date=date(2026, 11, 12)) for _ in range(4)]
    admin = make_user(host)
    db.session.commit()
    ids = (host.id, admin.id, payout.id)
    barrier, outcomes = threading.Barrier(4), []

    def link(row_id):
        with any_app.app_context():
            h, u = db.session.get(Host, ids[0]), db.session.get(User, ids[1])
            row = db.session.get(ImportRow, row_id)
            barrier.wait()
            try:
                payouts.link(h, u, row, ids[2])
                outcomes.append("linked")
            except service.TriageError as error:
                outcomes.append(str(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=link, args=(row.id,)) for row in rows]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert outcomes.count("linked") == 1 and len(outcomes) == 4
    db.session.expire_all()
    linked = db.session.scalars(select(ImportRow).where(ImportRow.status == "LINKED")).all()
    assert len(linked) == 1 and db.session.get(ProcessorPayment, ids[2]).import_row_id == linked[0].id


def test_unlink_frees_the_payout_and_writes_no_reversal(desk, client, login_as):
    payout = make_payout(desk["host"])
    row = line(desk)
    payouts.link(desk["host"], desk["admin"], row, payout.id)
    login_as(desk["admin"])
    panel = client.get(f"/h/river/imports/row/{row.id}/panel/unlink", headers=HX).get_data(as_text=True)
    assert "Stripe payout po_1" in panel and "no ledger entries were written" in panel
    response = client.post_with_csrf(f"/h/river/imports/row/{row.id}/unlink", {"reason": "wrong line"}, htmx=True)
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(ImportRow, row.id).status == "PENDING" and ledger_rows() == []
    assert db.session.get(ProcessorPayment, payout.id).import_row_id is None
    reason = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "import_row.unlink"))
    assert reason.data["ref"] == "po_1" and reason.data["reason"] == "wrong line"
    assert [s["object"].ref for s in payouts.suggestions(desk["host"], db.session.get(ImportRow, row.id))] == ["po_1"]


def test_undo_of_a_payout_link_asks_for_the_unlink_confirmation(desk, client, login_as):
    payout = make_payout(desk["host"])
    row = line(desk)
    login_as(desk["admin"])
    assert client.post_with_csrf(f"/h/river/imports/row/{row.id}/link", {"payout_id": payout.id}, htmx=True).status_code == 200
    response = client.post_with_csrf("/h/river/imports/undo", htmx=True)
    html = response.get_data(as_text=True)
    assert "confirm the unlink" in html and "Stripe payout po_1" in html


def test_without_javascript_the_payout_link_posts_and_redirects_back(desk, client, login_as):
    payout = make_payout(desk["host"])
    row = line(desk)
    login_as(desk["admin"])
    response = client.post_with_csrf(f"/h/river/imports/row/{row.id}/link", {"payout_id": payout.id})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Linked as a payout" in page
    linked = client.get(f"/h/river/imports/{desk['imp'].id}/rows?status=LINKED").get_data(as_text=True)
    assert "Stripe payout po_1 (transfer)" in linked


@pytest.mark.parametrize("value", ["", "abc", "²", "99999999999999999999", "-1"])
def test_a_payout_id_that_is_not_an_id_is_a_422_by_the_link(desk, client, login_as, value):
    row = line(desk)
    login_as(desk["admin"])
    response = client.post_with_csrf(f"/h/river/imports/row/{row.id}/link", {"payout_id": value}, htmx=True)
    assert response.status_code == 422 and "Give the payout to link to." in response.get_data(as_text=True)


def test_an_accountant_cannot_link_a_payout(desk, client, login_as):
    payout = make_payout(desk["host"])
    row = line(desk)
    login_as(make_user(desk["host"], Role.ACCOUNTANT))
    db.session.commit()
    assert client.post_with_csrf(f"/h/river/imports/row/{row.id}/link", {"payout_id": payout.id}, htmx=True).status_code == 403
    db.session.expire_all()
    assert db.session.get(ProcessorPayment, payout.id).import_row_id is None
