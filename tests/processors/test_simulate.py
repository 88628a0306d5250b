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
