"""Wise transfer webhooks end to end: the expense paid by the transfer is paid, refunded, or its state kept."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from hostadmin.audit.models import AuditEntry
from hostadmin.auth.models import Role
from hostadmin.extensions import db
from hostadmin.funds import expenses
from hostadmin.funds.records import RecordError
from hostadmin.ledger.models import Account, Expense, LedgerTransaction
from hostadmin.processors import connections, service
from hostadmin.webhooks.models import WebhookEvent
from tests.factories import make_user
from tests.processors.conftest import balance_of, events, fresh, work
from tests.processors.keys import rsa_key_pair
from tests.processors.wise_sender import WiseSender

PAID_AT = datetime(2026, 11, 19, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def wise_host(river):
    private, public = rsa_key_pair()
    connections.configure(river, "wise", material=public)
    river.wise_private_key = private
    return river


@pytest.fixture
def wise_sender(client, wise_host):
    return WiseSender(client, wise_host.wise_private_key)


@pytest.fixture
def expense(wise_host):
    admin = make_user(wise_host, Role.ADMIN)
    db.session.commit()
    rowers = db.session.scalar(select(Account).where(Account.slug == "river-rowers"))
    expenses.record_expense(wise_host, admin, collective=rowers, payee_name="Oars Ltd", amount=2500,
                            description="Oars")
    found = db.session.scalar(select(Expense))
    expenses.approve(wise_host, admin, found.id)
    # Money to pay it with.
    from hostadmin.ledger import accounts, service as ledger
    order = accounts.create_order(wise_host, contributor=accounts.create_account(wise_host, "CONTRIBUTOR", "Ada"),
                                  collective=rowers, amount=10000)
    ledger.record_order_paid(order, cleared_at=datetime(2026, 11, 1, tzinfo=timezone.utc))
    db.session.commit()
    return found.id


def expense_of(expense_id):
    db.session.expire_all()
    return db.session.get(Expense, expense_id)


def rowers_balance(host):
    return balance_of(host, db.session.scalar(select(Account).where(Account.slug == "river-rowers")))


def test_outgoing_payment_sent_marks_the_expense_of_that_transfer_paid(wise_host, wise_sender, expense):
    service.set_wise_transfer(fresh(wise_host), None, expense, "4242")
    response = wise_sender.send()
    assert response.status_code == 200
    work()
    paid = expense_of(expense)
    assert (paid.status, paid.paid_at) == ("PAID", PAID_AT)
    rows = db.session.scalars(select(LedgerTransaction).where(LedgerTransaction.expense_id == expense)).all()
    assert len(rows) == 2 and {row.cleared_at for row in rows} == {PAID_AT}
    assert rowers_balance(wise_host) == 10000 - 2500
    assert events()[0].status == "APPLIED"


def test_a_redelivery_is_acknowledged_and_pays_once(wise_host, wise_sender, expense):
    service.set_wise_transfer(fresh(wise_host), None, expense, "4242")
    assert wise_sender.send().status_code == 200
    again = wise_sender.send()
    assert again.get_json()["status"] == "duplicate"
    work()
    assert rowers_balance(wise_host) == 10000 - 2500
    assert [e.redeliveries for e in events()] == [1]


def test_an_unknown_transfer_waits_until_an_admin_names_its_expense(wise_host, wise_sender, expense, client,
                                                                    login_as):
    wise_sender.send(transfer_id=999)
    work()
    assert (events()[0].status, events()[0].parent_ref) == ("WAITING", "999")
    admin = make_user(fresh(wise_host), Role.ADMIN)
    db.session.commit()
    login_as(admin)
    page = client.get("/h/river/processors/")
    assert page.status_code == 200 and "Expense paid by transfer 999" in page.get_data(as_text=True)
    response = client.post("/h/river/processors/wise-transfer", data={"expense_id": expense, "transfer_id": "999",
                                                                     "csrf_token": client.csrf_token("/h/river/processors/")})
    assert response.status_code == 303
    assert expense_of(expense).status == "PAID"
    assert events()[0].status == "APPLIED"
    assert "waiting event(s) applied" in client.get("/h/river/processors/").get_data(as_text=True)


def test_funds_refunded_reverses_the_payment_and_the_expense_is_approved_again(wise_host, wise_sender, expense):
    service.set_wise_transfer(fresh(wise_host), None, expense, "4242")
    wise_sender.send()
    wise_sender.send(state="funds_refunded", occurred_at="2026-11-20T09:00:00Z")
    work()
    assert expense_of(expense).status == "APPROVED" and expense_of(expense).paid_at is None
    assert rowers_balance(wise_host) == 10000
    assert db.session.scalar(select(func.count()).where(LedgerTransaction.is_refund)) == 2


def test_a_refund_that_arrives_first_waits_for_the_payment(wise_host, wise_sender, expense):
    service.set_wise_transfer(fresh(wise_host), None, expense, "4242")
    wise_sender.send(state="funds_refunded", occurred_at="2026-11-20T09:00:00Z")
    work()
    assert events()[0].status == "WAITING"
    wise_sender.send()
    work()
    assert [e.status for e in events()] == ["APPLIED", "APPLIED"]
    assert expense_of(expense).status == "APPROVED" and rowers_balance(wise_host) == 10000


def test_other_states_are_kept_on_the_expenses_history(wise_host, wise_sender, expense):
    service.set_wise_transfer(fresh(wise_host), None, expense, "4242")
    wise_sender.send(state="processing", occurred_at="2026-11-18T10:00:00Z")
    work()
    assert events()[0].status == "IGNORED"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "expense.wise_state"))
    assert entry.data["state"] == "processing"
    assert expense_of(expense).status == "APPROVED"


def test_a_paid_event_for_an_expense_not_approved_is_refused_with_the_reason(wise_host, wise_sender, expense):
    service.set_wise_transfer(fresh(wise_host), None, expense, "4242")
    db.session.execute(Expense.__table__.update().values(status="REJECTED"))
    db.session.commit()
    wise_sender.send()
    work()
    assert events()[0].status == "FAILED" and "not approved" in events()[0].error


def test_an_absurd_occurred_at_is_refused(wise_host, wise_sender, expense):
    service.set_wise_transfer(fresh(wise_host), None, expense, "4242")
    wise_sender.send(occurred_at="1970-01-01T00:00:00Z")
    work()
    assert events()[0].status == "FAILED" and "before 2000" in events()[0].error
    assert expense_of(expense).status == "APPROVED"


@pytest.mark.parametrize("transfer_id,message", [("abc", "is a number"), ("", "is a number"), ("1" * 31, "number"),
                                                 ("٣", "number")])
def test_a_transfer_id_that_is_not_a_number_is_refused(wise_host, expense, transfer_id, message):
    with pytest.raises(RecordError, match=message):
        service.set_wise_transfer(fresh(wise_host), None, expense, transfer_id)


def test_one_transfer_pays_one_expense_and_an_expense_has_one_transfer(wise_host, expense):
    host = fresh(wise_host)
    service.set_wise_transfer(host, None, expense, "4242")
    with pytest.raises(RecordError, match="already paid by Wise transfer 4242"):
        service.set_wise_transfer(host, None, expense, "4343")
    rowers = db.session.scalar(select(Account).where(Account.slug == "river-rowers"))
    other = expenses.record_expense(host, None, collective=rowers, payee_name="Sails", amount=100,
                                    description="Sails")
    with pytest.raises(RecordError, match="already pays another expense"):
        service.set_wise_transfer(fresh(wise_host), None, other.id, "4242")


def test_the_test_notification_is_verified_and_answered_without_being_stored(wise_host, wise_sender):
    body = wise_sender.body()
    response = wise_sender.post(body, wise_sender.sign(body), headers={"X-Test-Notification": "true"})
    assert response.status_code == 200 and response.get_json()["status"] == "test notification"
    assert events() == []
    assert wise_sender.post(body, "QUJD", headers={"X-Test-Notification": "true"}).status_code == 401


def test_every_forgery_is_refused_and_stores_nothing_but_a_counted_rejection(wise_host, wise_sender):
    body = wise_sender.body()
    other, _ = rsa_key_pair()
    statuses = [wise_sender.post(body).status_code,
                wise_sender.post(body, wise_sender.sign(body, other)).status_code,
                wise_sender.post(body.replace(b"4242", b"4243"), wise_sender.sign(body)).status_code,
                wise_sender.post(body, "%%%").status_code]
    assert statuses == [401, 401, 401, 401]
    assert events() == []
    db.session.expire_all()
    assert sorted(db.session.scalars(select(WebhookEvent.rejection_reason))) == sorted(
        ["wise: missing signature header", "wise: bad signature", "wise: bad signature",
         "wise: signature is not base64"])


def test_an_accountant_sees_the_processors_page_but_cannot_match(wise_host, wise_sender, expense, client, login_as):
    wise_sender.send(transfer_id=999)
    work()
    accountant = make_user(fresh(wise_host), Role.ACCOUNTANT)
    db.session.commit()
    login_as(accountant)
    page = client.get("/h/river/processors/").get_data(as_text=True)
    assert "waiting for 999" in page and "Match" not in page
    response = client.post("/h/river/processors/wise-transfer", data={
        "expense_id": expense, "transfer_id": "999", "csrf_token": client.csrf_token("/h/river/processors/")})
    assert response.status_code == 403
    assert expense_of(expense).wise_transfer_id is None


def test_an_admin_chooses_the_stripe_cleared_field_on_the_processors_page(river, client, login_as):
    from tests.processors.conftest import STRIPE_SECRET
    connections.configure(river, "stripe", material=STRIPE_SECRET)
    admin = make_user(fresh(river), Role.ADMIN)
    db.session.commit()
    login_as(admin)
    page = client.get("/h/river/processors/").get_data(as_text=True)
    assert "available_on: when Stripe made the money available" in page and STRIPE_SECRET not in page
    token = client.csrf_token("/h/river/processors/")
    response = client.post("/h/river/processors/cleared-field", data={
        "processor": "stripe", "cleared_field": "available_on", "csrf_token": token})
    assert response.status_code == 303
    assert connections.connection_of(fresh(river), "stripe").cleared_field == "available_on"
    for form in ({"processor": "stripe", "cleared_field": "occurred_at"}, {"processor": "paypal",
                                                                             "cleared_field": "create_time"},
                 {"processor": "x\x00", "cleared_field": "available_on"}):
        assert client.post("/h/river/processors/cleared-field", data={**form, "csrf_token": token}).status_code == 303
    db.session.expire_all()
    assert connections.connection_of(fresh(river), "stripe").cleared_field == "available_on"
    shown = client.get("/h/river/processors/").get_data(as_text=True)
    assert "comes from one of charge_created, available_on" in shown
    assert "paypal is not connected to this host" in shown and "Choose Stripe, Wise or PayPal." in shown


def test_an_accountant_cannot_change_the_cleared_field(river, client, login_as):
    from tests.processors.conftest import STRIPE_SECRET
    connections.configure(river, "stripe", material=STRIPE_SECRET)
    login_as(make_user(fresh(river), Role.ACCOUNTANT))
    db.session.commit()
    page = client.get("/h/river/processors/").get_data(as_text=True)
    assert 'name="cleared_field"' not in page
    response = client.post("/h/river/processors/cleared-field", data={
        "processor": "stripe", "cleared_field": "available_on", "csrf_token": client.csrf_token("/h/river/processors/")})
    assert response.status_code == 403
    assert connections.connection_of(fresh(river), "stripe").cleared_field == "charge_created"
