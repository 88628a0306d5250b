"""PayPal webhooks end to end: offline verification with a certificate chain served over loopback."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from hostadmin.auth.models import Role
from hostadmin.extensions import db
from hostadmin.funds import expenses
from hostadmin.ledger import accounts, service as ledger
from hostadmin.ledger.models import Account, Expense, LedgerTransaction, Order
from hostadmin.processors import connections, paypal_certs
from hostadmin.webhooks.models import WebhookEvent
from tests.factories import make_user
from tests.processors.conftest import balance_of, events, fresh, work
from tests.processors.paypal_kit import CertServer, PayPalSender, make_leaf, make_root, pem

WEBHOOK_ID = "8PT597110X687430LKGECATA"
CAPTURED_AT = "2026-11-19T10:00:00Z"


@pytest.fixture
def kit(app, river, client, tmp_path):
    root_key, root = make_root()
    leaf_key, leaf = make_leaf(root_key, root)
    (tmp_path / "roots.pem").write_bytes(pem(root))
    server = CertServer()
    app.config.update(PAYPAL_CERT_DOMAINS=("127.0.0.1",), PAYPAL_CERT_SCHEMES=("http",),
                      PAYPAL_TRUST_ROOTS=str(tmp_path / "roots.pem"))
    paypal_certs.forget()
    connections.configure(river, "paypal", material=WEBHOOK_ID, sandbox=True)
    url = server.serve("/v1/notifications/certs/CERT-1", pem(leaf))
    sender = PayPalSender(client, leaf_key, url, WEBHOOK_ID)
    sender.server, sender.root, sender.root_key = server, root, root_key
    yield sender
    paypal_certs.forget()
    server.close()


def capture(ref="CAP-1", value="50.00", fee="1.75", collective="river-rowers", create_time=CAPTURED_AT):
    resource = {"id": ref, "status": "COMPLETED", "amount": {"currency_code": "USD", "value": value},
                "create_time": create_time, "update_time": create_time, "invoice_id": "INV-7",
                "seller_receivable_breakdown": {"gross_amount": {"currency_code": "USD", "value": value},
                                                "paypal_fee": {"currency_code": "USD", "value": fee}}}
    if collective is not None:
        resource["custom_id"] = collective
    return resource


def refund(capture_ref="CAP-1", value="50.00", ref=None):
    return {"id": ref or f"REF-{value}", "status": "COMPLETED", "amount": {"currency_code": "USD", "value": value},
            "create_time": "2026-11-20T09:00:00Z",
            "links": [{"rel": "up", "href": f"https://api.paypal.com/v2/payments/captures/{capture_ref}"}]}


def rowers():
    return db.session.scalar(select(Account).where(Account.slug == "river-rowers"))


def test_capture_completed_records_a_contribution_with_paypals_fee(kit, river):
    response = kit.send("PAYMENT.CAPTURE.COMPLETED", capture())
    assert response.status_code == 200
    work()
    order = db.session.scalar(select(Order))
    assert (order.status, order.amount, order.paid_at) == ("PAID", 5000,
                                                          datetime(2026, 11, 19, 10, tzinfo=timezone.utc))
    assert balance_of(river, rowers()) == 5000 - 175


def test_the_certificate_is_fetched_once_and_cached(kit, river):
    kit.send("PAYMENT.CAPTURE.COMPLETED", capture("CAP-1"))
    kit.send("PAYMENT.CAPTURE.COMPLETED", capture("CAP-2"))
    assert kit.server.hits == ["/v1/notifications/certs/CERT-1"]


def test_the_certificate_is_shared_through_redis_with_every_other_process(kit, river):
    kit.send("PAYMENT.CAPTURE.COMPLETED", capture("CAP-1"))
    paypal_certs.forget()  # another web process: its own memory is empty, Redis is shared
    assert kit.send("PAYMENT.CAPTURE.COMPLETED", capture("CAP-2")).status_code == 200
    assert kit.server.hits == ["/v1/notifications/certs/CERT-1"]


def test_a_certificate_planted_in_redis_is_validated_like_a_fetched_one(kit, river, redis_conn):
    stranger_key, stranger_root = make_root("someone else")
    _, planted = make_leaf(stranger_key, stranger_root)
    redis_conn.set(paypal_certs._key(kit.cert_url), pem(planted))
    assert kit.send("PAYMENT.CAPTURE.COMPLETED", capture()).status_code == 200
    assert kit.server.hits == ["/v1/notifications/certs/CERT-1"]  # refused from Redis, fetched from PayPal
    assert redis_conn.get(paypal_certs._key(kit.cert_url)) == kit.server.files["/v1/notifications/certs/CERT-1"]


def test_with_redis_down_the_certificate_is_fetched_and_kept_in_the_process(kit, river, monkeypatch):
    from hostadmin.extensions import queues
    from tests.webhooks.test_keys import dead_redis
    monkeypatch.setattr(queues, "_connection", dead_redis())
    monkeypatch.setattr("hostadmin.webhooks.flood._Local.minute", None)
    assert kit.send("PAYMENT.CAPTURE.COMPLETED", capture("CAP-1")).status_code == 200
    assert kit.send("PAYMENT.CAPTURE.COMPLETED", capture("CAP-2")).status_code == 200
    assert kit.server.hits == ["/v1/notifications/certs/CERT-1"]


def test_refunds_reverse_what_each_one_gave_back(kit, river):
    kit.send("PAYMENT.CAPTURE.COMPLETED", capture(fee="0.00"))
    kit.send("PAYMENT.CAPTURE.REFUNDED", refund(value="20.00"))
    work()
    assert balance_of(river, rowers()) == 3000
    kit.send("PAYMENT.CAPTURE.REFUNDED", refund(value="30.00"))
    work()
    assert balance_of(river, rowers()) == 0
    assert db.session.scalar(select(Order.status)) == "REFUNDED"


def test_a_refund_before_its_capture_waits(kit, river):
    kit.send("PAYMENT.CAPTURE.REFUNDED", refund())
    work()
    assert events()[0].status == "WAITING"
    kit.send("PAYMENT.CAPTURE.COMPLETED", capture(fee="0.00"))
    work()
    assert balance_of(river, rowers()) == 0 and db.session.scalar(select(Order.status)) == "REFUNDED"


def test_a_redelivered_event_is_applied_once(kit, river):
    body = kit.event("PAYMENT.CAPTURE.COMPLETED", capture(), event_id="WH-SAME")
    assert kit.post(body, kit.headers(body)).status_code == 200
    assert kit.post(body, kit.headers(body)).get_json()["status"] == "duplicate"
    work()
    assert db.session.scalar(select(func.count()).select_from(Order)) == 1


@pytest.fixture
def expense(kit, river):
    admin = make_user(river, Role.ADMIN)
    db.session.commit()
    found = expenses.record_expense(river, admin, collective=rowers(), payee_name="Oars Ltd", amount=2500,
                                    description="Oars")
    expenses.approve(river, admin, found.id)
    order = accounts.create_order(river, contributor=accounts.create_account(river, "CONTRIBUTOR", "Ada"),
                                  collective=rowers(), amount=10000)
    ledger.record_order_paid(order, cleared_at=datetime(2026, 11, 1, tzinfo=timezone.utc))
    db.session.commit()
    return found.id


def payout(expense_id, processed="2026-11-19T12:00:00Z", status="SUCCESS"):
    return {"payout_item_id": "PI-1", "transaction_id": "TX-1", "transaction_status": status,
            "payout_batch_id": "B-1", "time_processed": processed,
            "payout_item": {"sender_item_id": f"expense-{expense_id}",
                            "amount": {"currency_code": "USD", "value": "25.00"}}}


def expense_of(expense_id):
    db.session.expire_all()
    return db.session.get(Expense, expense_id)


def test_payout_succeeded_marks_the_expense_in_sender_item_id_paid(kit, river, expense):
    kit.send("PAYMENT.PAYOUTS-ITEM.SUCCEEDED", payout(expense))
    work()
    assert (expense_of(expense).status, expense_of(expense).paid_at) == (
        "PAID", datetime(2026, 11, 19, 12, tzinfo=timezone.utc))
    assert balance_of(river, rowers()) == 10000 - 2500


def test_a_returned_payout_puts_the_expense_back_to_approved_with_a_banner(kit, river, expense, client, login_as):
    kit.send("PAYMENT.PAYOUTS-ITEM.SUCCEEDED", payout(expense))
    kit.send("PAYMENT.PAYOUTS-ITEM.RETURNED", payout(expense, status="RETURNED"))
    work()
    assert expense_of(expense).status == "APPROVED"
    assert balance_of(river, rowers()) == 10000
    assert db.session.scalar(select(func.count()).where(LedgerTransaction.is_refund)) == 2
    login_as(make_admin(river))
    page = client.get("/h/river/").get_data(as_text=True)
    assert f"PayPal payout for expense #{expense} failed" in page


def make_admin(host):
    user = make_user(fresh(host), Role.ADMIN)
    db.session.commit()
    return user


def test_a_failed_payout_before_any_payment_leaves_the_expense_approved(kit, river, expense):
    kit.send("PAYMENT.PAYOUTS-ITEM.FAILED", payout(expense, status="FAILED"))
    work()
    assert expense_of(expense).status == "APPROVED"
    assert "stays approved" in events()[0].error


# --------------------------------------------------------------------------- forgeries

def refused_with(kit, body, headers, status=401):
    response = kit.post(body, headers)
    assert response.status_code == status
    db.session.expire_all()
    return db.session.scalars(select(WebhookEvent.rejection_reason).order_by(WebhookEvent.id.desc())).first()


def test_every_forgery_is_refused_and_nothing_is_stored(kit, river, tmp_path):
    body = kit.event("PAYMENT.CAPTURE.COMPLETED", capture())
    good = kit.headers(body)
    assert refused_with(kit, body, {k: v for k, v in good.items() if k != "PAYPAL-TRANSMISSION-SIG"}) \
        == "paypal: missing signature header"
    assert refused_with(kit, body, kit.headers(body, webhook_id="OTHER-WEBHOOK")) == "paypal: bad signature"
    assert refused_with(kit, body.replace(b"50.00", b"90.00"), good) == "paypal: bad signature"
    assert refused_with(kit, body, {**good, "PAYPAL-TRANSMISSION-ID": "tx-other"}) == "paypal: bad signature"
    other_url = good["PAYPAL-CERT-URL"].replace("127.0.0.1", "localhost")
    assert refused_with(kit, body, kit.headers(body, cert_url=other_url)) == "paypal: certificate URL is not PayPal's"
    for url in ("https://api.paypal.com.evil.example/cert", "https://user@api.paypal.com/cert", "ftp://paypal.com/c",
                "https://api.paypal.com:8443/cert"):
        assert refused_with(kit, body, kit.headers(body, cert_url=url)) == "paypal: certificate URL is not PayPal's"
    assert refused_with(kit, body, {**good, "PAYPAL-AUTH-ALGO": "SHA1withRSA"}) == \
        "paypal: unsupported signature algorithm"
    assert events() == []


def test_a_certificate_outside_the_trusted_chain_or_not_paypals_is_refused(kit, river):
    body = kit.event("PAYMENT.CAPTURE.COMPLETED", capture())
    stranger_key, stranger_root = make_root("someone else")
    key, leaf = make_leaf(stranger_key, stranger_root)
    url = kit.server.serve("/stranger.pem", pem(leaf))
    assert refused_with(kit, body, kit.headers(body, key=key, cert_url=url)) == "paypal: certificate chain not trusted"
    key, leaf = make_leaf(kit.root_key, kit.root, cn="shop.example.com")
    url = kit.server.serve("/not-paypal.pem", pem(leaf))
    assert refused_with(kit, body, kit.headers(body, key=key, cert_url=url)) == \
        "paypal: certificate is not issued to PayPal"
    url = kit.server.serve("/garbage.pem", b"not a certificate")
    assert refused_with(kit, body, kit.headers(body, cert_url=url)) == "paypal: certificate is not PEM"
    missing = kit.server.base + "/none.pem"
    assert refused_with(kit, body, kit.headers(body, cert_url=missing)) == "paypal: certificate could not be fetched"
    assert events() == []


def test_an_expired_certificate_is_refused(kit, river, clock):
    key, leaf = make_leaf(kit.root_key, kit.root, days=2)
    url = kit.server.serve("/short.pem", pem(leaf))
    clock.advance(days=3)
    body = kit.event("PAYMENT.CAPTURE.COMPLETED", capture())
    assert refused_with(kit, body, kit.headers(body, key=key, cert_url=url)) == "paypal: certificate chain not trusted"


def test_production_accepts_certificates_only_from_paypal_over_https(app):
    app.config.pop("PAYPAL_CERT_DOMAINS", None)
    app.config.pop("PAYPAL_CERT_SCHEMES", None)
    with app.test_request_context():
        assert paypal_certs.allowed_url("https://api.paypal.com/v1/notifications/certs/CERT-360caa42")
        assert paypal_certs.allowed_url("https://api.sandbox.paypal.com/v1/notifications/certs/x")
        assert not paypal_certs.allowed_url("http://api.paypal.com/v1/notifications/certs/x")
        assert not paypal_certs.allowed_url("https://127.0.0.1/cert")
        assert not paypal_certs.allowed_url("https://notpaypal.com/cert")
