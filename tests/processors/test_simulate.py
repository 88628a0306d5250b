"""`processors simulate`: a signed event posted to the running app, applied like the processor's own."""
from sqlalchemy import select

from hostadmin.extensions import db
from hostadmin.ledger.models import Expense, Order
from hostadmin.processors import connections
from tests.processors.conftest import events, fresh, work


def cli(app, *args):
    return app.test_cli_runner().invoke(args=["processors", *args])


def test_simulated_stripe_charge_and_refund_reach_the_ledger(app, river, live_server, tmp_path):
    app.config.update(PUBLIC_BASE_URL=live_server, WISE_SIMULATOR_KEY=str(tmp_path / "wise.pem"))
    assert cli(app, "demo-credentials", "--host", "river").exit_code == 0
    result = cli(app, "simulate", "stripe", "charge.succeeded", "--host", "river", "--amount", "12.50",
                 "--collective", "river-rowers")
    assert result.exit_code == 0, result.output
    assert "HTTP 200" in result.output
    charge = result.output.strip().splitlines()[-1].split()[-1]
    work()
    order = db.session.scalar(select(Order))
    assert (order.status, order.amount) == ("PAID", 1250)
    refund = cli(app, "simulate", "stripe", "charge.refunded", "--host", "river", "--amount", "12.50",
                 "--ref", charge)
    assert refund.exit_code == 0, refund.output
    work()
    assert db.session.scalar(select(Order.status)) == "REFUNDED"


def test_simulated_wise_payment_pays_the_expense(app, river, live_server, tmp_path):
    from tests.factories import make_payee
    from hostadmin.ledger import accounts
    app.config.update(PUBLIC_BASE_URL=live_server, WISE_SIMULATOR_KEY=str(tmp_path / "wise.pem"))
    cli(app, "demo-credentials", "--host", "river")
    host = fresh(river)
    rowers = db.session.scalar(select(accounts.Account).where(accounts.Account.slug == "river-rowers"))
    expense = accounts.create_expense(host, collective=rowers, payee=make_payee(host), amount=300)
    expense.wise_transfer_id = "777"
    db.session.commit()
    expense_id = expense.id
    result = cli(app, "simulate", "wise", "outgoing_payment_sent", "--host", "river", "--expense", str(expense_id))
    assert result.exit_code == 0, result.output
    work()
    assert db.session.get(Expense, expense_id).status == "PAID"
    assert events()[0].processor == "wise"


def test_simulate_refuses_clearly_what_it_cannot_send(app, river, live_server, tmp_path):
    app.config.update(PUBLIC_BASE_URL=live_server, WISE_SIMULATOR_KEY=str(tmp_path / "wise.pem"))
    not_connected = cli(app, "simulate", "stripe", "charge.succeeded", "--host", "river")
    assert not_connected.exit_code == 1 and "Stripe is not connected" in not_connected.output
    connections.configure(fresh(river), "stripe", material="whsec_x_" + "1" * 24)
    for args, message in ((["--amount", "-1"], "more than zero"), (["--amount", "abc"], "--amount must be"),
                          ([], None)):
        result = cli(app, "simulate", "stripe", "charge.refunded", "--host", "river", *args)
        assert result.exit_code == 1
        assert (message or "needs the charge it refunds") in result.output
    no_expense = cli(app, "simulate", "wise", "outgoing_payment_sent", "--host", "river", "--expense", "99")
    assert no_expense.exit_code == 1 and "--expense must name" in no_expense.output
    assert events() == []


def paypal_demo(app, tmp_path, live_server):
    """demo-credentials as `make run` runs it, and the app trusting its demo root as `make run` configures it."""
    from hostadmin.processors import paypal_certs

    app.config.update(PUBLIC_BASE_URL=live_server, WISE_SIMULATOR_KEY=str(tmp_path / "wise.pem"),
                      PAYPAL_SIMULATOR_DIR=str(tmp_path))
    assert cli(app, "demo-credentials", "--host", "river").exit_code == 0
    app.config.update(PAYPAL_TRUST_ROOTS=str(tmp_path / "paypal-demo-roots.pem"),
                      PAYPAL_CERT_DOMAINS=("paypal.com", "127.0.0.1"), PAYPAL_CERT_SCHEMES=("https", "http"))
    paypal_certs.forget()


def test_simulated_paypal_capture_refund_and_payout_reach_the_ledger(app, river, live_server, tmp_path):
    from tests.factories import make_payee
    from hostadmin.ledger import accounts
    paypal_demo(app, tmp_path, live_server)

    result = cli(app, "simulate", "paypal", "PAYMENT.CAPTURE.COMPLETED", "--host", "river", "--amount", "20.00",
                 "--collective", "river-rowers")
    assert result.exit_code == 0, result.output
    assert "HTTP 200" in result.output
    capture = result.output.strip().splitlines()[-1].split()[-1]
    work()
    order = db.session.scalar(select(Order))
    assert (order.status, order.amount) == ("PAID", 2000)

    refund = cli(app, "simulate", "paypal", "PAYMENT.CAPTURE.REFUNDED", "--host", "river", "--amount", "20.00",
                 "--ref", capture)
    assert refund.exit_code == 0, refund.output
    work()
    assert db.session.scalar(select(Order.status)) == "REFUNDED"

    host = fresh(river)
    rowers = db.session.scalar(select(accounts.Account).where(accounts.Account.slug == "river-rowers"))
    expense = accounts.create_expense(host, collective=rowers, payee=make_payee(host), amount=300)
    db.session.commit()
    expense_id = expense.id
    payout = cli(app, "simulate", "paypal", "PAYMENT.PAYOUTS-ITEM.SUCCEEDED", "--host", "river", "--amount", "3.00",
                 "--expense", str(expense_id))
    assert payout.exit_code == 0, payout.output
    work()
    assert db.session.get(Expense, expense_id).status == "PAID"
    assert {e.processor for e in events()} == {"paypal"}


def test_a_simulated_paypal_event_is_refused_when_the_app_does_not_trust_the_demo_root(
        app, river, live_server, tmp_path):
    """The demo certificate is not PayPal's: an app that trusts only the real roots (production) refuses it."""
    from hostadmin.processors import paypal_certs
    paypal_demo(app, tmp_path, live_server)
    app.config.update(PAYPAL_TRUST_ROOTS=None)
    paypal_certs.forget()
    result = cli(app, "simulate", "paypal", "PAYMENT.CAPTURE.COMPLETED", "--host", "river",
                 "--collective", "river-rowers")
    assert result.exit_code == 1 and "HTTP 4" in result.output
    assert db.session.scalar(select(Order)) is None


def test_simulate_paypal_refuses_clearly_what_it_cannot_send(app, river, live_server, tmp_path):
    app.config.update(PUBLIC_BASE_URL=live_server, PAYPAL_SIMULATOR_DIR=str(tmp_path))
    not_connected = cli(app, "simulate", "paypal", "PAYMENT.CAPTURE.COMPLETED", "--host", "river")
    assert not_connected.exit_code == 1 and "PayPal is not connected" in not_connected.output
    paypal_demo(app, tmp_path, live_server)
    for args, message in ((["PAYMENT.CAPTURE.REFUNDED"], "needs the capture it refunds"),
                          (["PAYMENT.PAYOUTS-ITEM.SUCCEEDED"], "needs the expense it pays"),
                          (["CHECKOUT.ORDER.APPROVED"], "PayPal events that can be simulated")):
        result = cli(app, "simulate", "paypal", *args, "--host", "river")
        assert result.exit_code == 1 and message in result.output, result.output
    assert events() == []


def test_simulated_stripe_dispute_payout_and_card_purchase_reach_the_ledger(app, river, live_server, tmp_path):
    from hostadmin.ledger.models import LedgerTransaction
    from hostadmin.processors.models import ProcessorPayment
    app.config.update(PUBLIC_BASE_URL=live_server, WISE_SIMULATOR_KEY=str(tmp_path / "wise.pem"))
    assert cli(app, "demo-credentials", "--host", "river").exit_code == 0
    paid = cli(app, "simulate", "stripe", "charge.succeeded", "--host", "river", "--amount", "40.00",
               "--collective", "river-rowers")
    charge = paid.output.strip().splitlines()[-1].split()[-1]
    for event in ("charge.dispute.created", "charge.dispute.closed"):
        result = cli(app, "simulate", "stripe", event, "--host", "river", "--amount", "40.00", "--ref", charge)
        assert result.exit_code == 0 and result.output.strip().endswith(f"dispute dp_{charge}"), result.output
    payout = cli(app, "simulate", "stripe", "payout.paid", "--host", "river", "--amount", "100.00")
    card = cli(app, "simulate", "stripe", "issuing_transaction.created", "--host", "river", "--amount", "5.00",
               "--collective", "river-rowers")
    assert "payout po_sim_" in payout.output and "issuing.transaction ipi_sim_" in card.output
    work()
    assert [e.status for e in events()] == ["APPLIED"] * 5
    kinds = {row.kind for row in db.session.scalars(select(LedgerTransaction))}
    assert {"DISPUTE", "EXPENSE", "CONTRIBUTION"} <= kinds
    assert db.session.scalar(select(ProcessorPayment.amount).where(ProcessorPayment.kind == "PAYOUT")) == 10000
    assert db.session.scalar(select(Expense.status)) == "PAID"
    dispute_needs_charge = cli(app, "simulate", "stripe", "charge.dispute.created", "--host", "river")
    assert dispute_needs_charge.exit_code == 1 and "a dispute needs the charge it disputes" in dispute_needs_charge.output
