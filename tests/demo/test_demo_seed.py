"""Demo data: realistic, balanced, seeded once."""
from sqlalchemy import func, select

from hostadmin.demo import service as demo
from hostadmin.ledger.models import Account, Expense, LedgerTransaction, Order


def test_demo_seed_builds_a_host_with_history(app, db, clock):
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--if-empty"])
    assert result.exit_code == 0 and "admin@example.org / hostadmin" in result.output

    count = lambda model, *where: db.session.scalar(select(func.count()).select_from(model).where(*where))
    assert count(Account, Account.kind == "COLLECTIVE") == 5
    assert count(Order, Order.status == "PENDING") == 3
    assert count(Expense, Expense.status == "APPROVED") >= 1
    rows = db.session.scalars(select(LedgerTransaction)).all()
    assert len({r.group_id for r in rows}) >= 40
    assert all(r.cleared_at <= r.created_at <= clock.now for r in rows)

    again = app.test_cli_runner().invoke(args=["demo", "seed", "--if-empty"])
    assert "skipped" in again.output
    assert app.test_cli_runner().invoke(args=["demo", "seed"]).exit_code != 0


def test_demo_login_reaches_the_dashboard(app, client):
    demo.seed_demo()
    response = client.login(demo.DEMO_ADMIN_EMAIL, demo.DEMO_PASSWORD)
    page = client.get(response.headers["Location"], follow_redirects=True).get_data(as_text=True)
    assert "Demo Fiscal Host" in page and "Riverside Food Bank" in page


def test_demo_bank_lines_match_each_expected_contribution_and_approved_expense(app, client, db):
    from hostadmin.imports.models import ImportRow

    demo.seed_demo()
    client.login(demo.DEMO_ADMIN_EMAIL, demo.DEMO_PASSWORD)
    pending = db.session.scalars(select(Order).where(Order.status == "PENDING")).all()
    approved = db.session.scalars(select(Expense).where(Expense.status == "APPROVED")).all()
    rows = db.session.scalars(select(ImportRow).where(ImportRow.status == "PENDING")).all()
    assert len(rows) == len(pending) + len(approved) + len(demo.UNEXPECTED_LINES)
    for target, sign, word in [*((o, 1, "order") for o in pending), *((e, -1, "expense") for e in approved)]:
        row = next(r for r in rows if r.amount == sign * target.amount)
        # What `l` opens on that row: the link panel, with the matching order or expense suggested.
        panel = client.get(f"/h/demo/imports/row/{row.id}/panel/link", headers={"HX-Request": "true"})
        assert panel.status_code == 200 and f'name="target_id" value="{target.id}"' in panel.get_data(as_text=True), word

    dashboard = client.get("/h/demo/").get_data(as_text=True)
    assert f"{len(rows)} bank rows to triage" in dashboard
