"""Cross-cutting web behaviour: error pages."""
import pytest
from flask import g
from sqlalchemy import select, text

from hostadmin.auth.models import HostMember
from hostadmin.extensions import db
from hostadmin.ledger.models import Host
from tests.factories import make_bank_account, make_host, make_user


@pytest.mark.postgres
def test_500_after_a_failed_statement_on_postgresql_is_the_styled_page_with_the_request_id(pg_app, caplog):
    pg_app.config["PROPAGATE_EXCEPTIONS"] = False
    host = make_host(slug="river")
    admin = make_user(host)
    item = make_bank_account(host).item
    item.status = "LOGIN_REQUIRED"  # so the page's banner query has something to show
    db.session.commit()

    @pg_app.get("/_test/<host_slug>/failed-statement")
    def failed_statement(host_slug):
        g.host = db.session.scalar(select(Host).where(Host.slug == host_slug))
        g.membership = db.session.scalar(select(HostMember).where(HostMember.host_id == g.host.id))
        db.session.execute(text("SELECT 1 / 0"))  # aborts the transaction

    client = pg_app.test_client()
    client.login(admin.email, "correct horse battery")
    response = client.get("/_test/river/failed-statement", headers={"X-Request-ID": "req-pg-500"})

    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in html and "req-pg-500" in html
    assert 'href="/static/app.css"' in html and admin.email in html
    assert 'data-banner="LOGIN_REQUIRED"' in html  # the banner query ran after the rollback
    assert any("request_id=req-pg-500" in record.getMessage() for record in caplog.records)
