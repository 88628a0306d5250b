"""Text the app writes itself (a reversal's "Reversal: …", an order from a long bank line) always fits its column."""
from hostadmin.imports.models import ImportRow
from hostadmin.ledger.models import LedgerTransaction, Order
from hostadmin.ledger.service import balances
from tests.factories import make_collective, make_contributor, make_host, make_import, make_import_row, make_user
from tests.imports.test_races import any_app  # noqa: F401  (the fixture: SQLite, then PostgreSQL)

HX = {"HX-Request": "true"}


def add_funds_then_unlink(app, description, bank_line):
    from hostadmin.extensions import db
    host = make_host(slug="river")
    rowers, donor = make_collective(host), make_contributor(host)
    row = make_import_row(make_import(host), amount=15000, description=bank_line)
    admin = make_user(host)
    db.session.commit()
    client = app.test_client()
    client.login(admin.email, "correct horse battery")
    added = client.post_with_csrf(f"/h/river/imports/row/{row.id}/add-funds", htmx=True, data={
        "collective": str(rowers.id), "contributor": str(donor.id), "description": description})
    assert added.status_code == 200, added.get_data(as_text=True)
    unlinked = client.post_with_csrf(f"/h/river/imports/row/{row.id}/unlink", htmx=True,
                                     data={"reason": "wrong collective " * 40})
    assert unlinked.status_code == 200, unlinked.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ImportRow, row.id).status == "PENDING"
    assert balances(host)[rowers.id] == 0
    return db.session.scalars(db.select(Order)).one(), LedgerTransaction.query.filter_by(is_refund=True).all()


def test_added_funds_with_a_600_character_description_can_be_unlinked(any_app):
    order, reversal = add_funds_then_unlink(any_app, "d" * 600, "Deposit")

    assert order.description == "d" * 499 + "…" and order.status == "REFUNDED"
    assert {row.description for row in reversal} == {"Reversal: " + "d" * 489 + "…"}


def test_added_funds_from_a_495_character_bank_line_can_be_unlinked(any_app):
    order, reversal = add_funds_then_unlink(any_app, "", "b" * 495)

    assert order.description == "b" * 495
    assert {row.description for row in reversal} == {"Reversal: " + "b" * 489 + "…"}
