"""A host's settings page: its time zone, which months, date filters and reports follow."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from hostadmin.audit.models import AuditEntry
from hostadmin.auth.models import Role
from hostadmin.extensions import db
from hostadmin.funds import periods, service
from hostadmin.ledger.models import Host
from hostadmin.reports import monthly
from tests.factories import make_collective, make_host, make_user


@pytest.fixture
def river(app):
    host = make_host(slug="river")
    rowers = make_collective(host, "River Rowers")
    admin = make_user(host, email="admin@river.org")
    db.session.commit()
    # 03:00 UTC on 1 November: November in UTC, still 31 October (23:00) in New York.
    service.add_funds(host, admin, collective=rowers, amount=10000, description="Late-night cheque",
                      cleared_at=datetime(2026, 11, 1, 3, tzinfo=timezone.utc), host_fee_bps=0)
    return host, admin


def zone_of(host):
    db.session.expire_all()
    return db.session.get(Host, host.id).timezone


def test_an_admin_sets_the_time_zone_and_months_follow_it_audited(river, client, login_as):
    host, admin = river
    assert monthly.build(host, "2026-10").total.closing == 0
    login_as(admin)
    page = client.get("/h/river/settings").get_data(as_text=True)
    assert '<option selected value="UTC">UTC</option>' in page and "America/New_York" in page
    assert 'href="/h/river/settings"' in page  # in the top menu

    response = client.post_with_csrf("/h/river/settings", {"timezone": "America/New_York"})

    assert response.status_code == 302 and response.headers["Location"].endswith("/h/river/settings")
    followed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Time zone set to America/New_York" in followed
    assert zone_of(host) == "America/New_York"
    host = db.session.get(Host, host.id)
    assert monthly.build(host, "2026-10").total.closing == 10000  # the deposit now belongs to October
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "host.timezone"))
    assert (entry.user_id, entry.before, entry.after) == (
        admin.id, {"timezone": "UTC"}, {"timezone": "America/New_York"})


@pytest.mark.parametrize("value,message", [
    ("Mars/Olympus", "Choose a time zone from the list"),
    ("Europe/Berlin\x00", "Choose a time zone from the list"),
    ("x" * 10_000, "Choose a time zone from the list"),
    ("", "Choose a time zone from the list"),
    ("UTC", "already UTC: nothing to change"),
])
def test_a_bad_or_unchanged_zone_is_refused_by_the_field_and_changes_nothing(river, client, login_as, value,
                                                                          message):
    host, admin = river
    login_as(admin)
    response = client.post_with_csrf("/h/river/settings", {"timezone": value})
    assert response.status_code == 400
    assert 'id="timezone-error"' in response.get_data(as_text=True)
    assert message in response.get_data(as_text=True)
    assert zone_of(host) == "UTC"
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "host.timezone")) is None


def test_the_zone_cannot_change_while_a_month_is_closed_and_can_once_it_is_reopened(river, client, login_as):
    host, admin = river
    periods.close_month(host, admin, "2026-10")
    login_as(admin)
    refused = client.post_with_csrf("/h/river/settings", {"timezone": "America/New_York"})
    assert refused.status_code == 400 and "A month is closed" in refused.get_data(as_text=True)
    assert zone_of(host) == "UTC"  # October's stored report still holds: the deposit stays in November

    periods.reopen_month(db.session.get(Host, host.id), admin, "2026-10", "Time zone was wrong")
    assert client.post_with_csrf("/h/river/settings", {"timezone": "America/New_York"}).status_code == 302
    assert zone_of(host) == "America/New_York"


def test_accountants_and_forged_posts_cannot_change_the_zone(river, client, login_as):
    host, _ = river
    accountant = make_user(host, role=Role.ACCOUNTANT)
    db.session.commit()
    login_as(accountant)
    assert client.get("/h/river/settings").status_code == 403
    assert client.post_with_csrf("/h/river/settings", {"timezone": "Asia/Tokyo"}).status_code == 403
    assert 'href="/h/river/settings"' not in client.get("/h/river/").get_data(as_text=True)
    no_token = client.post("/h/river/settings", data={"timezone": "Asia/Tokyo"})
    assert no_token.status_code == 400  # no CSRF token
    assert zone_of(host) == "UTC"
