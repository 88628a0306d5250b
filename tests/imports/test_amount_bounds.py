"""Amounts from outside are bounded and ASCII-only, and balances are summed without overflow (SQLite and PostgreSQL)."""
import io
import re
import uuid

from hostadmin.imports.models import ImportRow, ImportRun, TransactionsImport
from hostadmin.ledger.models import LedgerTransaction
from hostadmin.ledger.service import balances
from tests.factories import PASSWORD, make_collective, make_contributor, make_host, make_user
from tests.imports.test_races import any_app  # noqa: F401  (the fixture: SQLite, then PostgreSQL)

STATEMENT = """Date,Description,Amount,Currency
2026-11-10,Fine,12.50,USD
2026-11-11,big,92233720368547758.07,USD
2026-11-12,twenty digits,12345678901234567890,USD
2026-11-13,fullwidth,１２３,USD
2026-11-14,superscript,²,USD
2026-11-15,too precise,1.001,USD
2026-11-16,yen,1000,JPY
2026-11-17,fractional yen,1000.5,JPY
2026-11-18,dinar,1.234,KWD
２０２６-11-19,fullwidth date,1.00,USD
"""


def signed_in(app, user):
    client = app.test_client()
    assert client.login(user.email, PASSWORD).status_code == 302
    return client


def test_csv_lines_with_huge_unicode_or_over_precise_amounts_are_invalid_and_the_rest_is_imported(any_app):
    from hostadmin.extensions import db
    host = make_host(slug="river")
    admin = make_user(host)
    db.session.commit()
    client = signed_in(any_app, admin)
    assert client.post_with_csrf("/h/river/imports/csv", {"name": "Credit Union"}).status_code == 302
    imp = TransactionsImport.query.filter_by(name="Credit Union").one()
    uploaded = client.post(f"/h/river/imports/{imp.id}/preview",
                           data={"csrf_token": client.csrf_token("/"),
                                 "file": (io.BytesIO(STATEMENT.encode()), "nov.csv")},
                           content_type="multipart/form-data")
    form = {"token": re.search(r'name="token" value="([^"]+)"', uploaded.get_data(as_text=True)).group(1),
            "date": "Date", "date_format": "%Y-%m-%d", "description": "Description", "amount": "Amount",
            "currency": "Currency"}

    preview = client.post_with_csrf(f"/h/river/imports/{imp.id}/preview", form)
    confirmed = client.post_with_csrf(f"/h/river/imports/{imp.id}/import", form)

    assert preview.status_code == 200 and 'data-count="new">3<' in preview.get_data(as_text=True)
    assert confirmed.status_code == 302
    db.session.expire_all()
    rows = ImportRow.query.filter_by(import_id=imp.id).order_by(ImportRow.date).all()
    assert [(row.amount, row.currency) for row in rows] == [(1250, "USD"), (1000, "JPY"), (1234, "KWD")]
    run = ImportRun.query.filter_by(import_id=imp.id).one()
    assert run.invalid_details == [
        {"line": 3, "error": "“92233720368547758.07” is too large: the largest amount is 9,999,999,999,999.99 USD"},
        {"line": 4, "error": "“12345678901234567890” is too large: the largest amount is 9,999,999,999,999.99 USD"},
        {"line": 5, "error": "“１２３” is not an amount"},
        {"line": 6, "error": "“²” is not an amount"},
        {"line": 7, "error": "“1.001” has too many decimals: USD amounts have at most 2 decimals"},
        {"line": 9, "error": "“1000.5” has too many decimals: JPY amounts have no decimals"},
        {"line": 11, "error": "“２０２６-11-19” is not a date like 2026-11-20"},
    ]


def test_dashboard_sums_balances_beyond_64_bits_written_before_amounts_were_bounded(any_app):
    from hostadmin.extensions import db
    host = make_host(slug="river")
    rowers, donor = make_collective(host, "River Rowers"), make_contributor(host)
    admin = make_user(host)
    # Two groups of the largest BIGINT each, as the unbounded CSV import and add-funds could write them.
    for _ in range(2):
        group = str(uuid.uuid4())
        for account, counterparty, amount in ((rowers, donor, 2**63 - 1), (donor, rowers, -(2**63 - 1))):
            db.session.add(LedgerTransaction(
                host_id=host.id, group_id=group, kind="ADDED_FUNDS", type="CREDIT" if amount > 0 else "DEBIT",
                account_id=account.id, counterparty_id=counterparty.id, amount=amount, currency="USD",
                amount_in_host_currency=amount, host_currency="USD", created_at=any_app.clock.now,
                cleared_at=any_app.clock.now))
    db.session.commit()

    page = signed_in(any_app, admin).get("/h/river/")

    assert page.status_code == 200
    assert "$184,467,440,737,095,516.14" in page.get_data(as_text=True)
    assert balances(host)[donor.id] == -2 * (2**63 - 1)
