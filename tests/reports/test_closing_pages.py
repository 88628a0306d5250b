"""Closing and reopening a month from its page: confirmed, audited, the report stored, refusals by the field."""
import pytest
from sqlalchemy import select

from hostadmin.audit.models import AuditEntry
from hostadmin.auth.models import Role
from hostadmin.extensions import db
from hostadmin.funds import cleared, service as funds
from hostadmin.funds.models import ClosedPeriod
from hostadmin.ledger import service as ledger
from hostadmin.ledger.models import Host, LedgerKind
from hostadmin.reports.models import ReportExport
from tests.factories import make_contributor, make_user
from tests.reports.helpers import october_world, utc


@pytest.fixture
def river(app):
    host, admin, rowers, choir, october = october_world()
    accountant = make_user(host, role=Role.ACCOUNTANT)
    db.session.commit()
    return host, admin, accountant, rowers


def closing(host):
    db.session.expire_all()
    return cleared.closing_in_force(db.session.get(Host, host.id), "2026-10")


def stored_versions():
    return sorted(e.version for e in db.session.scalars(select(ReportExport).where(
        ReportExport.closed_period_id.is_not(None))))


def test_an_admin_closes_october_from_its_page_and_it_is_closed_to_every_write(river, client, login_as):
    host, admin, _, rowers = river
    login_as(admin)
    page = client.get("/h/river/reports/months/2026-10").get_data(as_text=True)
    assert "Open: October 2026 can still receive entries." in page
    assert 'action="/h/river/reports/months/2026-10/close"' in page
    assert 'data-confirm="Close October 2026? Nothing can be recorded in it until it is reopened."' in page
    assert "<title>October 2026 · " in page  # no markup in the title

    response = client.post_with_csrf("/h/river/reports/months/2026-10/close", {"reason": "Books done"})

    assert response.status_code == 303
    followed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "October 2026 is closed; its report is stored." in followed and "Version 1" in followed
    assert 'action="/h/river/reports/months/2026-10/reopen"' in followed and "(Books done)" in followed
    period = closing(host)
    assert (period.closed_by_id, period.reason) == (admin.id, "Books done") and stored_versions() == [1]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "period.close"))
    assert entry.user_id == admin.id and entry.data == {"reason": "Books done"}
    with pytest.raises(funds.FundsError, match="October 2026 is closed"):
        funds.add_funds(db.session.get(Host, host.id), admin, collective=rowers, amount=100,
                        cleared_at=utc(2026, 10, 15, 12), description="Late cheque")


def test_reopening_needs_a_reason_and_closing_again_stores_version_two(river, client, login_as):
    host, admin, _, _ = river
    login_as(admin)
    assert client.post_with_csrf("/h/river/reports/months/2026-10/close", {}).status_code == 303

    refused = client.post_with_csrf("/h/river/reports/months/2026-10/reopen", {"reason": " \x00 "})
    assert refused.status_code == 400 and 'aria-invalid="true"' in refused.get_data(as_text=True)
    assert 'id="closing-error">Say why the month is reopened: a reason is required' in refused.get_data(as_text=True)
    assert closing(host) is not None

    reopened = client.post_with_csrf("/h/river/reports/months/2026-10/reopen", {"reason": "Late cheque"})
    assert reopened.status_code == 303 and closing(host) is None
    period = db.session.scalar(select(ClosedPeriod))
    assert (period.reopened_by_id, period.reopen_reason) == (admin.id, "Late cheque")
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "period.reopen")).user_id == admin.id

    assert client.post_with_csrf("/h/river/reports/months/2026-10/close", {}).status_code == 303
    assert stored_versions() == [1, 2]
    page = client.get("/h/river/reports/months/2026-10").get_data(as_text=True)
    assert "Version 1" in page and "Version 2" in page


def test_a_month_not_ended_or_already_closed_is_refused_by_the_form_keeping_the_note(river, client, login_as):
    host, admin, _, _ = river
    login_as(admin)  # today is 20 November 2026 in the tests
    this_month = client.get("/h/river/reports/months/2026-11").get_data(as_text=True)
    assert "has not ended yet" in this_month and "/months/2026-11/close" not in this_month
    early = client.post_with_csrf("/h/river/reports/months/2026-11/close", {"reason": "Early bird"})
    assert early.status_code == 400
    assert 'role="alert">November 2026 has not ended yet' in early.get_data(as_text=True)
    assert client.post_with_csrf("/h/river/reports/months/2026-10/close", {}).status_code == 303
    again = client.post_with_csrf("/h/river/reports/months/2026-10/close", {})
    assert again.status_code == 400 and 'role="alert">October 2026 is already closed' in again.get_data(as_text=True)
    not_closed = client.post_with_csrf("/h/river/reports/months/2026-09/reopen", {"reason": "Why not"})
    assert not_closed.status_code == 400
    assert db.session.scalar(select(ClosedPeriod).where(ClosedPeriod.month == "2026-09")) is None
    assert client.post_with_csrf("/h/river/reports/months/2026-13/close", {}).status_code == 404


def test_a_month_that_does_not_reconcile_cannot_be_closed_from_its_page(river, client, login_as):
    host, admin, _, rowers = river
    stranger = make_contributor(host, "Someone")
    ledger.record_group(host, [ledger.Entry(rowers, stranger, -500, LedgerKind.HOST_FEE),
                               ledger.Entry(stranger, rowers, 500, LedgerKind.HOST_FEE)],
                        currency="USD", cleared_at=utc(2026, 10, 25, 12), description="Misfiled fee")
    db.session.commit()
    login_as(admin)
    page = client.get("/h/river/reports/months/2026-10")
    assert page.status_code == 409 and "does not reconcile" in page.get_data(as_text=True)
    refused = client.post_with_csrf("/h/river/reports/months/2026-10/close", {})
    assert refused.status_code == 409 and "does not reconcile" in refused.get_data(as_text=True)
    assert closing(host) is None and stored_versions() == []


def test_accountants_see_the_closing_but_cannot_close_or_reopen(river, client, login_as):
    host, admin, accountant, _ = river
    login_as(accountant)
    page = client.get("/h/river/reports/months/2026-10").get_data(as_text=True)
    assert "Open: October 2026" in page and "/months/2026-10/close" not in page
    assert client.post_with_csrf("/h/river/reports/months/2026-10/close", {}).status_code == 403
    assert closing(host) is None
    db.session.add(ClosedPeriod(host_id=host.id, month="2026-10", closed_by_id=admin.id))
    db.session.commit()
    assert client.post_with_csrf("/h/river/reports/months/2026-10/reopen", {"reason": "x"}).status_code == 403
    assert closing(host) is not None
    assert client.post("/h/river/reports/months/2026-10/reopen", data={"reason": "x"}).status_code in (400, 403)
